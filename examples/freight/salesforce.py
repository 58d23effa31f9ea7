"""The salesforce context: a CRM whose API takes one call at a time.

One `serial` subscriber takes both events, so its calls never overlap and keep emit order.
"""

from __future__ import annotations

import anyio

from generated.freight import FreightBus
from generated.freight.models import QuoteAccepted, ShipmentCreated
from generated.freight.subscribers.salesforce import on_quote_accepted, on_shipment_created
from tidings.runtime import Message

from ._log import say

_calls_in_flight = 0


async def push_to_crm(message: Message[ShipmentCreated] | Message[QuoteAccepted]) -> None:
    """Create the opportunity of a new shipment, or record a won quote, one call at a time."""
    global _calls_in_flight
    _calls_in_flight += 1
    try:
        assert _calls_in_flight == 1, "the CRM got concurrent calls"
        await anyio.sleep(0.01)
        data = message.data
        if isinstance(data, ShipmentCreated):
            what = f"opportunity for {data.reference}"
        else:
            what = f"quote won: {data.total.amount} {data.total.currency}"
        say("salesforce", f"{what} (calls in flight: {_calls_in_flight})", message)
    finally:
        _calls_in_flight -= 1


def subscribe(bus: FreightBus) -> None:
    """Attach the CRM handler to both events, in serial mode: one queue, one call at a time."""
    on_shipment_created(bus, mode="serial")(push_to_crm)
    on_quote_accepted(bus, mode="serial")(push_to_crm)
