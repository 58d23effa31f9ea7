"""Versioned payloads on a real event log: a message stored under v1 is read after the catalog
moved to v2 (or v3) through `@bus.upcaster`, on replay and on crash recovery; with no upcaster
on its way up it goes dead saying which one to add. The log keeps what was written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import anyio
import pydantic
import pytest

from tests.store.support import Backend
from tidings.runtime import CatalogSpec, EventBus, Message, MessageSpec, RetryPolicy
from tidings.runtime._ids import uuid7
from tidings.runtime.stores._base import StoredMessage

pytestmark = pytest.mark.anyio

ONCE = RetryPolicy(max_attempts=1, initial_delay=0.01)


class PlacedV1(pydantic.BaseModel):
    orderId: str
    total: int


class Money(pydantic.BaseModel):
    amount: int
    currency: str


class PlacedV2(pydantic.BaseModel):
    orderId: str
    total: Money


class PlacedV3(pydantic.BaseModel):
    orderId: str
    total: Money
    channel: str


def catalog(version: int, previous: dict[int, type[pydantic.BaseModel]] | None = None
            ) -> CatalogSpec:
    model = {1: PlacedV1, 2: PlacedV2, 3: PlacedV3}[version]
    return CatalogSpec("shop", {"orderPlaced": MessageSpec(
        "orderPlaced", "event", model, version=version, retry=ONCE, previous=previous or {})})


async def store_v1(backend: Backend, payload: dict[str, Any], *, fail: bool) -> str:
    """Emit `payload` on a v1 bus whose subscriber `billing` fails (dead) or is never run
    (`fail=False`: the delivery stays pending, as a crash leaves it); returns the message id."""
    bus = EventBus(catalog(1), store=backend.new(), poll_interval=0.02)

    async def bill(message: Message[PlacedV1]) -> None:
        raise ConnectionError("billing down")

    bus.on("orderPlaced", bill, name="billing", mode="async")
    async with bus:
        if fail:
            message = await bus.publish("orderPlaced", payload)
            rows = await bus.settled(message.id, timeout=30)
            assert [r.status for r in rows] == ["dead"]
            return str(message.id)
    store = backend.new()  # a process that stored the message and died before running it
    async with store:
        message_id = uuid7()
        now = datetime.now(UTC)
        await store.append(StoredMessage(message_id, "orderPlaced", 1, json.dumps(payload), now,
                                         message_id, None, None),
                           ["billing"], "crashed-host:1:x", now - timedelta(seconds=1))
    return str(message_id)


def v2_bus(backend: Backend, seen: list[Message[Any]], previous: bool = False) -> EventBus:
    bus = EventBus(catalog(2, {1: PlacedV1} if previous else None), store=backend.new(),
                   poll_interval=0.02, lease=1.0)

    async def bill(message: Message[PlacedV2]) -> None:
        seen.append(message)

    bus.on("orderPlaced", bill, name="billing", mode="async")
    return bus


async def stored_row(backend: Backend, message_id: str) -> tuple[int, str]:
    store = backend.new()
    async with store:
        entries = await store.log(message_id=UUID(message_id))
    assert len(entries) == 1
    return entries[0].message.version, entries[0].message.payload


async def test_a_v1_message_replays_through_the_upcaster(backend: Backend) -> None:
    message_id = await store_v1(backend, {"orderId": "o-1", "total": 1250}, fail=True)
    seen: list[Message[Any]] = []
    bus = v2_bus(backend, seen)

    @bus.upcaster("orderPlaced", from_version=1)
    def to_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "total": {"amount": data["total"], "currency": "EUR"}}

    async with bus:
        rows = await bus.replay(message_id, timeout=30)
    assert [r.status for r in rows] == ["succeeded"]
    assert [(m.data, m.version) for m in seen] == [
        (PlacedV2(orderId="o-1", total=Money(amount=1250, currency="EUR")), 2)]
    version, payload = await stored_row(backend, message_id)
    assert (version, json.loads(payload)) == (1, {"orderId": "o-1", "total": 1250})


async def test_without_an_upcaster_the_replay_goes_dead_saying_which_to_add(
        backend: Backend) -> None:
    message_id = await store_v1(backend, {"orderId": "o-1", "total": 1250}, fail=True)
    seen: list[Message[Any]] = []
    async with v2_bus(backend, seen) as bus:
        rows = await bus.replay(message_id, timeout=30)
    assert [r.status for r in rows] == ["dead"] and seen == []
    error = rows[0].last_error or ""
    assert error.splitlines() == [error]
    assert ("'orderPlaced' v1 is stored and the catalog is at v2: add an upcaster from v1 "
            "(@bus.upcaster('orderPlaced', from_version=1))") in error


async def test_crash_recovery_upcasts_with_the_kept_old_model(backend: Backend) -> None:
    message_id = await store_v1(backend, {"orderId": "o-2", "total": 7}, fail=False)
    seen: list[Message[Any]] = []
    got: list[object] = []
    bus = v2_bus(backend, seen, previous=True)

    @bus.upcaster("orderPlaced", from_version=1)
    def to_v2(old: PlacedV1) -> PlacedV2:
        got.append(old)
        return PlacedV2(orderId=old.orderId, total=Money(amount=old.total, currency="USD"))

    async with bus:
        with anyio.fail_after(30):
            while not seen:
                await anyio.sleep(0.02)
        rows = await bus.settled([(seen[0].id, "billing")], timeout=30)
    assert got == [PlacedV1(orderId="o-2", total=7)]
    assert str(seen[0].id) == message_id and seen[0].data.total.currency == "USD"
    assert [r.status for r in rows] == ["succeeded"]
    assert (await stored_row(backend, message_id))[0] == 1


async def test_a_chain_runs_every_step_and_a_missing_step_is_named(backend: Backend) -> None:
    message_id = await store_v1(backend, {"orderId": "o-3", "total": 5}, fail=True)
    seen: list[Message[Any]] = []
    bus = EventBus(catalog(3), store=backend.new(), poll_interval=0.02)

    async def bill(message: Message[PlacedV3]) -> None:
        seen.append(message)

    bus.on("orderPlaced", bill, name="billing", mode="async")

    @bus.upcaster("orderPlaced", from_version=1)
    def to_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "total": {"amount": data["total"], "currency": "EUR"}}

    async with bus:
        rows = await bus.replay(message_id, timeout=30)
        assert rows[0].status == "dead" and seen == []
        assert "add an upcaster from v2 (@bus.upcaster('orderPlaced', from_version=2))" in (
            rows[0].last_error or "")

        @bus.upcaster("orderPlaced", from_version=2)
        def to_v3(data: dict[str, Any]) -> dict[str, Any]:
            return {**data, "channel": "web"}

        rows = await bus.replay(message_id, timeout=30)
    assert rows[0].status == "succeeded"
    assert seen[0].data == PlacedV3(orderId="o-3", total=Money(amount=5, currency="EUR"),
                                    channel="web")


async def test_an_upcaster_that_raises_or_returns_a_bad_payload_goes_dead(
        backend: Backend) -> None:
    message_id = await store_v1(backend, {"orderId": "o-4", "total": 5}, fail=True)
    seen: list[Message[Any]] = []
    bus = v2_bus(backend, seen)
    results: list[Any] = [KeyError("currency"), {"orderId": "o-4", "total": 5}]

    @bus.upcaster("orderPlaced", from_version=1)
    def to_v2(data: dict[str, Any]) -> Any:
        result = results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result

    async with bus:
        raised = await bus.replay(message_id, timeout=30)
        invalid = await bus.replay(message_id, timeout=30)
    assert raised[0].status == "dead" and "raised KeyError: 'currency'" in (
        raised[0].last_error or "")
    assert "to_v2" in (raised[0].last_error or "")
    assert invalid[0].status == "dead" and (
        "what the upcaster from v1 of 'orderPlaced' returned does not fit v2: total: Input should be"
        in (invalid[0].last_error or ""))
    assert seen == []


def test_registration_is_checked_at_once() -> None:
    bus = EventBus(catalog(2))
    with pytest.raises(KeyError, match="orderPaid"):
        bus.upcaster("orderPaid", from_version=1)
    with pytest.raises(ValueError, match=r"at version 2.*one of 1\.\.1.*not from 2"):
        bus.upcaster("orderPlaced", from_version=2)
    with pytest.raises(TypeError, match="from_version must be an int"):
        bus.upcaster("orderPlaced", from_version="1")  # type: ignore[arg-type]
    bus.upcaster("orderPlaced", from_version=1)(lambda data: data)
    with pytest.raises(ValueError, match="already has an upcaster from v1"):
        bus.upcaster("orderPlaced", from_version=1)(lambda data: data)
    with pytest.raises(ValueError, match="bump its `version`"):
        EventBus(catalog(1)).upcaster("orderPlaced", from_version=1)


@pytest.mark.parametrize("broker_kind", ["memory", "nats"])
async def test_a_v1_message_received_from_the_broker_is_upcast(backend: Backend,
                                                               broker_kind: str) -> None:
    from tidings.runtime import MemoryStore, NatsTransport, Transport
    from tidings.testing import MemoryBroker, MemoryTransport

    name = "shop"
    broker = MemoryBroker()
    if broker_kind == "nats":  # the real server, a stream of this test's own
        from tests.conftest import require_service
        from tests.transports.conftest import NATS_URL, delete_stream

        require_service("NATS", "127.0.0.1", 4222)
        name = f"t{uuid7().hex[-12:]}"

    def transport() -> Transport:
        if broker_kind == "nats":
            return NatsTransport(NATS_URL, fetch_timeout=0.5)
        return MemoryTransport(broker)

    def spec(version: int) -> CatalogSpec:
        model = PlacedV1 if version == 1 else PlacedV2
        return CatalogSpec(name, {"orderPlaced": MessageSpec(
            "orderPlaced", "event", model, version=version, retry=ONCE, distributed=True)})

    seen: list[Message[Any]] = []
    consumer = EventBus(spec(2), store=backend.new(), transport=transport(), poll_interval=0.02)

    async def bill(message: Message[PlacedV2]) -> None:
        seen.append(message)

    consumer.on("orderPlaced", bill, name="billing", mode="async")

    @consumer.upcaster("orderPlaced", from_version=1)
    def to_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "total": {"amount": data["total"], "currency": "EUR"}}

    producer = EventBus(spec(1), store=MemoryStore(), transport=transport(), poll_interval=0.02)
    try:
        async with consumer, producer:
            sent = await producer.publish("orderPlaced", {"orderId": "o-5", "total": 3})
            with anyio.fail_after(30):
                while not seen:
                    await anyio.sleep(0.02)
            rows = await consumer.settled([(sent.id, "billing")], timeout=30)
    finally:
        if broker_kind == "nats":
            await anyio.to_thread.run_sync(delete_stream, f"TIDINGS_{name.upper()}")
    assert [r.status for r in rows] == ["succeeded"]
    assert seen[0].id == sent.id and seen[0].data.total == Money(amount=3, currency="EUR")
    assert (await stored_row(backend, str(sent.id)))[0] == 1


async def test_a_stored_payload_that_does_not_fit_the_kept_old_schema_says_so(
        backend: Backend) -> None:
    message_id = await store_v1(backend, {"orderId": "o-6", "total": 5}, fail=True)

    class StricterV1(pydantic.BaseModel):
        orderId: int  # the kept schema says integer; v1 was written as text
        total: int

    seen: list[Message[Any]] = []
    bus = EventBus(catalog(2, {1: StricterV1}), store=backend.new(), poll_interval=0.02)
    bus.on("orderPlaced", seen.append, name="billing", mode="async")
    bus.upcaster("orderPlaced", from_version=1)(lambda old: old)
    async with bus:
        rows = await bus.replay(message_id, timeout=30)
    assert rows[0].status == "dead" and seen == []
    assert ("the stored v1 payload of 'orderPlaced' does not fit the catalog's kept v1 schema "
            "(`previous: v1`): orderId: Input should be a valid integer") in (rows[0].last_error or "")
