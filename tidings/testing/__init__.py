"""Testing tidings handlers: a pytest plugin (the `tidings_bus` fixture, registered as the
`tidings` pytest11 entry point), a bus wrapper that waits until deliveries settle and asserts
on what was emitted, a fake clock for retries, and an in-memory transport double.

    @pytest.mark.anyio
    async def test_confirmation(tidings_bus):
        async with tidings_bus(FreightBus, subscribe=subscribe_all) as bus:
            await bus.emit("quoteAccepted", {...})
            await bus.settled()
            bus.assert_emitted("shipmentCreated", quote_id="q-1")
"""

from tidings.testing._clock import FakeClock
from tidings.testing._factory import NATS_URL_ENV, TRANSPORT_ENV, BusFactory
from tidings.testing._harness import Captured, NotSettled, TestBus
from tidings.testing._transport import MemoryBroker, MemoryTransport

__all__ = [
    "NATS_URL_ENV",
    "TRANSPORT_ENV",
    "BusFactory",
    "Captured",
    "FakeClock",
    "MemoryBroker",
    "MemoryTransport",
    "NotSettled",
    "TestBus",
]
