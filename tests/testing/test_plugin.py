"""The `tidings_bus` fixture, tested with itself, on asyncio and trio."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from pydantic import BaseModel

from generated.freight.bus import FreightBus
from tests.conftest import require_service
from tidings.runtime import CatalogSpec, EventBus, Message, MessageSpec, RetryPolicy
from tidings.testing import BusFactory, NotSettled

pytestmark = pytest.mark.anyio


class Order(BaseModel):
    order_id: str
    total: int = 0


class Mail(BaseModel):
    to: str


FIVE = RetryPolicy(max_attempts=5, initial_delay=2.0, max_delay=600.0, jitter=False)
SHOP = CatalogSpec("shop", {
    "orderPlaced": MessageSpec("orderPlaced", "event", Order, retry=FIVE, distributed=True),
    "mailSent": MessageSpec("mailSent", "event", Mail),
})


def subscribe(bus: EventBus) -> None:
    """The service under test: every order gets a confirmation mail."""

    async def confirm(message: Message[Any]) -> None:
        await bus.emit("mailSent", {"to": message.data.order_id + "@example.com"})

    bus.on("orderPlaced", confirm, mode="async", name="emails.confirmation")


@pytest.mark.parametrize("store", ["memory", "sqlite"])
async def test_a_handler_in_five_lines(tidings_bus: BusFactory, store: Any) -> None:
    async with tidings_bus(SHOP, store=store, subscribe=subscribe) as bus:
        await bus.emit("orderPlaced", {"order_id": "o-1"})
        rows = await bus.settled()
        bus.assert_emitted("mailSent", to="o-1@example.com")
    assert [(r.subscriber, r.status) for r in rows] == [("emails.confirmation", "succeeded")]
    assert [m.name for m in bus.captured] == ["orderPlaced", "mailSent"]
    assert isinstance(bus.captured("orderPlaced")[0].data, Order)


async def test_assertions_say_what_was_emitted(tidings_bus: BusFactory) -> None:
    async with tidings_bus(SHOP, subscribe=subscribe) as bus:
        await bus.emit("orderPlaced", {"order_id": "o-2", "total": 5})
        await bus.settled()
        bus.assert_emitted("orderPlaced", order_id="o-2", total=5)
        bus.assert_not_emitted("orderPlaced", order_id="o-3")
        with pytest.raises(AssertionError, match="no 'orderPlaced' emitted with order_id='o-3'"):
            bus.assert_emitted("orderPlaced", order_id="o-3")
        with pytest.raises(AssertionError, match="'orderPlaced' was emitted"):
            bus.assert_not_emitted("orderPlaced", total=5)


async def test_a_stub_records_and_the_handler_comes_back(tidings_bus: BusFactory) -> None:
    async with tidings_bus(SHOP, subscribe=subscribe) as bus:
        with bus.stub("emails.confirmation") as calls:
            await bus.emit("orderPlaced", {"order_id": "o-4"})
            await bus.settled()
        assert [m.data.order_id for m in calls] == ["o-4"]
        bus.assert_not_emitted("mailSent")
        await bus.emit("orderPlaced", {"order_id": "o-5"})
        await bus.settled()
        bus.assert_emitted("mailSent", to="o-5@example.com")


async def test_five_attempts_with_backoff_run_on_the_fake_clock(tidings_bus: BusFactory) -> None:
    def boom(message: Message[Any]) -> None:
        raise RuntimeError(f"attempt {message.attempt}")

    async with tidings_bus(SHOP, subscribe=subscribe) as bus:
        with bus.stub("emails.confirmation", side_effect=boom) as calls:
            await bus.emit("orderPlaced", {"order_id": "o-6"})
            rows = await bus.settled()
    assert [m.attempt for m in calls] == [1, 2, 3, 4, 5]
    assert [(r.status, r.attempts) for r in rows] == [("dead", 5)]
    assert "attempt 5" in (rows[0].last_error or "")
    # backoff 2 + 4 + 8 + 16 seconds passed on the fake clock, none of them waited for
    assert tidings_bus.clock.advanced.total_seconds() >= 2 + 4 + 8 + 16


async def test_a_failure_then_a_success(tidings_bus: BusFactory) -> None:
    def flaky(message: Message[Any]) -> None:
        if message.attempt < 3:
            raise ConnectionError("smtp away")

    async with tidings_bus(SHOP, subscribe=subscribe, store="sqlite") as bus:
        with bus.stub("emails.confirmation", side_effect=flaky) as calls:
            await bus.emit("orderPlaced", {"order_id": "o-7"})
            rows = await bus.settled()
    assert [m.attempt for m in calls] == [1, 2, 3]
    assert [(r.status, r.attempts) for r in rows] == [("succeeded", 3)]


async def test_the_timeout_names_what_is_pending(tidings_bus: BusFactory) -> None:
    def boom(message: Message[Any]) -> None:
        raise RuntimeError("no")

    async with tidings_bus(SHOP, subscribe=subscribe, real_clock=True) as bus:
        with bus.stub("emails.confirmation", side_effect=boom):
            message = await bus.publish("orderPlaced", {"order_id": "o-8"})
            with pytest.raises(NotSettled, match=f"orderPlaced {message.id} -> emails.confirmation: failed"):
                await bus.settled(timeout=0.3)


@pytest.mark.parametrize("tidings_bus", ["memory", "nats"], indirect=True)
async def test_two_services_over_a_broker(tidings_bus: BusFactory) -> None:
    if tidings_bus.kind == "nats":
        require_service("NATS", "127.0.0.1", 4222)
    received: list[Message[Any]] = []

    def handle(message: Message[Any]) -> None:
        if message.attempt == 1:
            raise RuntimeError("first try fails")
        received.append(message)

    def consumer_side(bus: EventBus) -> None:
        bus.on("orderPlaced", handle, mode="async", name="billing.invoice")

    async with tidings_bus(SHOP, transport=True) as producer, \
            tidings_bus(SHOP, transport=True, subscribe=consumer_side) as consumer:
        sent = await producer.publish("orderPlaced", {"order_id": "o-9"})
        await producer.settled()
        rows = await consumer.settled(expect=["orderPlaced"])
    assert [(m.id, m.attempt) for m in received] == [(sent.id, 2)]
    assert [(r.subscriber, r.status, r.attempts) for r in rows] == [("billing.invoice", "succeeded", 2)]
    assert consumer.captured("orderPlaced") == []  # received, not emitted, by the consumer


async def test_a_generated_bus(tidings_bus: BusFactory) -> None:
    seen: list[Message[Any]] = []

    def subscribe_metis(bus: FreightBus) -> None:
        bus.on("METIS_AnalyzeDocumentCommand", seen.append, mode="async", name="metis.analyze",
               remote=False)

    async with tidings_bus(FreightBus, subscribe=subscribe_metis) as bus:
        assert isinstance(bus.bus, FreightBus)
        document = str(uuid4())  # formats are text: the model keeps what was sent
        await bus.emit("METIS_AnalyzeDocumentCommand", {"documentId": document})
        await bus.settled()
    assert [m.data.document_id for m in seen] == [document]
    bus.assert_emitted("METIS_AnalyzeDocumentCommand", document_id=document)


async def test_a_serial_subscriber_retries_in_place_on_the_fake_clock(tidings_bus: BusFactory) -> None:
    calls: list[tuple[str, int]] = []

    def in_order(message: Message[Any]) -> None:
        calls.append((message.data.order_id, message.attempt))
        if message.data.order_id == "first" and message.attempt < 4:
            raise RuntimeError("not yet")

    def serial(bus: EventBus) -> None:
        bus.on("orderPlaced", in_order, mode="serial", name="ledger")

    async with tidings_bus(SHOP, subscribe=serial) as bus:
        await bus.emit("orderPlaced", {"order_id": "first"})
        await bus.emit("orderPlaced", {"order_id": "second"})
        rows = await bus.settled()
    assert calls == [("first", 1), ("first", 2), ("first", 3), ("first", 4), ("second", 1)]
    assert sorted((r.status, r.attempts) for r in rows) == [("succeeded", 1), ("succeeded", 4)]
    assert tidings_bus.clock.advanced.total_seconds() >= 2 + 4 + 8


async def test_failure_log_records_carry_the_delivery_as_extra(
        tidings_bus: BusFactory, caplog: pytest.LogCaptureFixture) -> None:
    def boom(message: Message[Any]) -> None:
        raise RuntimeError("no")

    async with tidings_bus(SHOP, subscribe=subscribe) as bus:
        with bus.stub("emails.confirmation", side_effect=boom):
            sent = await bus.publish("orderPlaced", {"order_id": "o-10"})
            await bus.settled()
    records = [r for r in caplog.records if r.name == "tidings.bus"]
    assert [(r.levelname, r.__dict__["attempt"]) for r in records] == [
        ("WARNING", 1), ("WARNING", 2), ("WARNING", 3), ("WARNING", 4), ("ERROR", 5)]
    assert {(r.__dict__["message_id"], r.__dict__["message_name"], r.__dict__["subscriber"])
            for r in records} == {(str(sent.id), "orderPlaced", "emails.confirmation")}
