"""Traces in one process, on asyncio and trio, on a memory store and a real SQLite file: the
emit's PRODUCER span, a CONSUMER span per delivery attempt as its child (with the messaging
semantic-convention attributes), retries as span events, dead as ERROR, the traceparent stored
with the message, and a replay in a new trace linked to the original."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pydantic
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from tests.otel.conftest import Telemetry
from tidings.runtime import CatalogSpec, EventBus, Message, MessageSpec, RetryPolicy
from tidings.runtime.stores import MemoryStore, SQLiteStore, Store

pytestmark = pytest.mark.anyio

FAST = RetryPolicy(max_attempts=3, initial_delay=0.01, max_delay=0.02, jitter=False)


class Order(pydantic.BaseModel):
    order_id: str


class Mail(pydantic.BaseModel):
    to: str


CATALOG = CatalogSpec("shop", {
    "orderPlaced": MessageSpec("orderPlaced", "event", Order, retry=FAST),
    "mailSent": MessageSpec("mailSent", "event", Mail, retry=FAST),
})


def make_store(kind: str, tmp_path: Path) -> Store:
    return MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "events.db")


def stored_traceparent(store: Store, tmp_path: Path, message_id: Any) -> str | None:
    if isinstance(store, MemoryStore):
        return store.messages[message_id].traceparent
    with sqlite3.connect(tmp_path / "events.db") as conn:
        value = conn.execute("SELECT traceparent FROM messages WHERE id = ?",
                             (str(message_id),)).fetchone()[0]
    return None if value is None else str(value)


def traceparent_of(span: ReadableSpan) -> str:
    context = span.get_span_context()
    assert context is not None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def parent_id(span: ReadableSpan) -> int | None:
    return None if span.parent is None else span.parent.span_id


def span_id(span: ReadableSpan) -> int:
    context = span.get_span_context()
    assert context is not None
    return context.span_id


def trace_id(span: ReadableSpan) -> int:
    context = span.get_span_context()
    assert context is not None
    return context.trace_id


def attempts_of(telemetry: Telemetry, subscriber: str) -> list[ReadableSpan]:
    return sorted((s for s in telemetry.spans("process orderPlaced")
                   if (s.attributes or {}).get("messaging.consumer.group.name") == subscriber),
                  key=lambda s: s.start_time or 0)


def subscribe(bus: EventBus, broken: dict[str, bool]) -> None:
    failures = {"flaky": 1}

    async def confirm(message: Message[Any]) -> None:
        await bus.emit("mailSent", {"to": f"{message.data.order_id}@example.com"})

    def flaky(message: Message[Any]) -> None:
        if failures["flaky"]:
            failures["flaky"] -= 1
            raise ConnectionError("the warehouse API timed out")

    def invoice(message: Message[Any]) -> None:
        if broken["invoice"]:
            raise ValueError("no tax rate for country XX")

    bus.on("orderPlaced", confirm, mode="async", name="emails.confirm")
    bus.on("orderPlaced", flaky, mode="async", name="stock.reserve")
    bus.on("orderPlaced", invoice, mode="async", name="billing.invoice")
    bus.on("mailSent", lambda message: None, mode="async", name="audit.mail")


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_one_trace_from_the_request_to_every_attempt(telemetry: Telemetry, tmp_path: Path,
                                                           kind: str) -> None:
    store = make_store(kind, tmp_path)
    bus = EventBus(CATALOG, store=store, poll_interval=0.02)
    subscribe(bus, {"invoice": True})
    tracer = telemetry.tracer_provider.get_tracer("shop")
    async with bus:
        with tracer.start_as_current_span("POST /orders"):
            message = await bus.publish("orderPlaced", {"order_id": "o-1"})
        rows = await bus.settled(message.id, timeout=30)
        await bus.drain()
        mails = [m for m in await store.log(name="mailSent")]
        assert len(mails) == 1
        await bus.settled(mails[0].message.id, timeout=30)
    assert sorted((r.subscriber, r.status, r.attempts) for r in rows) == [
        ("billing.invoice", "dead", 3), ("emails.confirm", "succeeded", 1), ("stock.reserve", "succeeded", 2)]

    [request] = telemetry.spans("POST /orders")
    [send] = telemetry.spans("send orderPlaced")
    assert send.kind is SpanKind.PRODUCER and parent_id(send) == span_id(request)
    assert dict(send.attributes or {}) == {
        "messaging.system": "tidings", "messaging.operation.type": "send",
        "messaging.operation.name": "send", "messaging.destination.name": "orderPlaced",
        "messaging.message.id": str(message.id),
        "messaging.message.conversation_id": str(message.id),
    }
    assert message.traceparent == traceparent_of(send)
    assert stored_traceparent(store, tmp_path, message.id) == traceparent_of(send)

    [confirm] = attempts_of(telemetry, "emails.confirm")
    assert confirm.kind is SpanKind.CONSUMER and parent_id(confirm) == span_id(send)
    assert trace_id(confirm) == trace_id(request)
    attributes = dict(confirm.attributes or {})
    assert attributes["messaging.system"] == "tidings"
    assert attributes["messaging.operation.type"] == "process"
    assert attributes["messaging.destination.name"] == "orderPlaced"
    assert attributes["messaging.message.id"] == str(message.id)
    assert attributes["messaging.consumer.group.name"] == "emails.confirm"
    assert confirm.status.status_code is StatusCode.UNSET and not confirm.events

    first, second = attempts_of(telemetry, "stock.reserve")
    assert [parent_id(first), parent_id(second)] == [span_id(send), span_id(send)]
    assert [e.name for e in first.events] == ["exception", "tidings.retry"]
    assert (first.events[1].attributes or {})["tidings.delivery.attempt"] == 2
    assert first.status.status_code is StatusCode.UNSET and second.status.status_code is StatusCode.UNSET
    assert not second.events

    invoice = attempts_of(telemetry, "billing.invoice")
    assert len(invoice) == 3 and all(parent_id(s) == span_id(send) for s in invoice)
    assert [[e.name for e in s.events] for s in invoice] == [
        ["exception", "tidings.retry"], ["exception", "tidings.retry"], ["exception"]]
    assert [s.status.status_code for s in invoice] == [StatusCode.UNSET, StatusCode.UNSET, StatusCode.ERROR]
    assert "no tax rate" in (invoice[2].status.description or "")

    # The mail the confirmation handler emitted: a child of that attempt, in the same trace.
    [mail_send] = telemetry.spans("send mailSent")
    assert parent_id(mail_send) == span_id(confirm) and trace_id(mail_send) == trace_id(request)
    [audit] = telemetry.spans("process mailSent")
    assert parent_id(audit) == span_id(mail_send)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_a_replay_starts_a_new_trace_linked_to_the_original(telemetry: Telemetry, tmp_path: Path,
                                                                  kind: str) -> None:
    broken = {"invoice": True}
    bus = EventBus(CATALOG, store=make_store(kind, tmp_path), poll_interval=0.02)
    subscribe(bus, broken)
    async with bus:
        message = await bus.publish("orderPlaced", {"order_id": "o-2"})
        await bus.settled(message.id, timeout=30)
        broken["invoice"] = False
        [row] = await bus.replay(message.id, "billing.invoice", timeout=30)
    assert row.status == "succeeded"
    [send] = telemetry.spans("send orderPlaced")
    [replay] = telemetry.spans("replay")
    assert trace_id(replay) != trace_id(send) and replay.parent is None
    *before, replayed = attempts_of(telemetry, "billing.invoice")
    assert len(before) == 3 and all(trace_id(s) == trace_id(send) for s in before)
    assert trace_id(replayed) == trace_id(replay) and parent_id(replayed) == span_id(replay)
    [link] = replayed.links
    assert link.context.trace_id == trace_id(send) and link.context.span_id == span_id(send)
    assert replayed.status.status_code is StatusCode.UNSET


async def test_uninstrumented_nothing_is_traced_or_stored(telemetry: Telemetry, tmp_path: Path) -> None:
    import tidings.otel

    tidings.otel.uninstrument()
    store = MemoryStore()
    bus = EventBus(CATALOG, store=store, poll_interval=0.02)
    subscribe(bus, {"invoice": False})
    async with bus:
        message = await bus.publish("orderPlaced", {"order_id": "o-3"})
        await bus.settled(message.id, timeout=30)
    assert telemetry.spans() == []
    assert message.traceparent is None and store.messages[message.id].traceparent is None


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_metrics_after_a_known_run(telemetry: Telemetry, tmp_path: Path, kind: str) -> None:
    import tidings.otel

    bus = EventBus(CATALOG, store=make_store(kind, tmp_path), poll_interval=0.02)
    subscribe(bus, {"invoice": True})
    async with bus:
        message = await bus.publish("orderPlaced", {"order_id": "o-4"})
        await bus.settled(message.id, timeout=30)
        await bus.drain()
        [mail] = [e.message for e in await bus.store.log(name="mailSent")]  # type: ignore[union-attr]
        await bus.settled(mail.id, timeout=30)
        await tidings.otel.refresh_gauges()
        gauges = {a["tidings.delivery.status"]: v for a, v in telemetry.metric("tidings.deliveries.current")}
        oldest = telemetry.metric("tidings.deliveries.oldest_pending_age")
    assert gauges == {"pending": 0, "running": 0, "failed": 0, "dead": 1}
    assert [(a, v) for a, v in oldest] == [({"tidings.catalog": "shop"}, 0.0)]
    assert telemetry.total("tidings.messages.emitted") == 2
    assert telemetry.total("tidings.messages.emitted", **{"messaging.destination.name": "mailSent"}) == 1
    outcome = "tidings.delivery.outcome"
    assert telemetry.total("tidings.deliveries", **{outcome: "succeeded"}) == 3
    assert telemetry.total("tidings.deliveries", **{outcome: "dead"}) == 1
    invoice = {"tidings.subscriber": "billing.invoice"}
    dead_invoices = telemetry.total("tidings.deliveries", **{outcome: "dead", **invoice})
    assert dead_invoices == 1
    assert telemetry.total("tidings.delivery.attempts", **{outcome: "succeeded"}) == 3
    assert telemetry.total("tidings.delivery.attempts", **{outcome: "retry"}) == 3
    assert telemetry.total("tidings.delivery.attempts", **{outcome: "dead"}) == 1
    assert telemetry.total("tidings.delivery.lag") == 4  # one per final outcome
    assert telemetry.total("tidings.delivery.lag", **{"tidings.subscriber": "stock.reserve"}) == 1


async def test_outbox_backlog_while_the_broker_is_away(telemetry: Telemetry, tmp_path: Path) -> None:
    import tidings.otel
    from tests.transports.aws import free_port
    from tidings.runtime.transports import NatsTransport

    catalog = CatalogSpec("depot", {
        "parcelShipped": MessageSpec("parcelShipped", "event", Order, retry=FAST, distributed=True)})
    nobody = NatsTransport(f"nats://127.0.0.1:{free_port()}", connect_options={"connect_timeout": 0.2})
    bus = EventBus(catalog, store=SQLiteStore(tmp_path / "events.db"), transport=nobody,
                   poll_interval=0.02, shutdown_timeout=0.5)
    async with bus:
        shipped = [await bus.publish("parcelShipped", {"order_id": f"o-{i}"}) for i in range(3)]
        with anyio.fail_after(30):  # until the relay failed once and tries again
            while (await bus.store.deliveries(  # type: ignore[union-attr]
                    [(shipped[0].id, "tidings.relay:nats")]))[0].attempts < 2:
                await anyio.sleep(0.02)
        await tidings.otel.refresh_gauges()
        backlog = telemetry.metric("tidings.outbox.backlog")
        [(_, age)] = telemetry.metric("tidings.deliveries.oldest_pending_age")
    assert backlog == [({"tidings.catalog": "depot", "tidings.relay": "tidings.relay:nats"}, 3)]
    assert age >= 0
    [send] = [s for s in telemetry.spans("send parcelShipped")
              if (s.attributes or {})["messaging.system"] == "tidings" and
              (s.attributes or {})["messaging.message.id"] == str(shipped[0].id)]
    relayed = [s for s in telemetry.spans("send parcelShipped")
               if (s.attributes or {})["messaging.system"] == "nats" and parent_id(s) == span_id(send)]
    assert relayed and all(s.kind is SpanKind.PRODUCER for s in relayed)
    assert relayed[0].events[-1].name == "tidings.retry"  # the relay tries again


async def test_an_attempt_cancelled_by_the_shutdown_is_abandoned(telemetry: Telemetry,
                                                                 tmp_path: Path) -> None:
    started = anyio.Event()

    async def hang(message: Message[Any]) -> None:
        started.set()
        await anyio.sleep_forever()

    store = SQLiteStore(tmp_path / "events.db")
    bus = EventBus(CATALOG, store=store, poll_interval=0.02, shutdown_timeout=0.05)
    bus.on("orderPlaced", hang, mode="async", name="stock.hang")
    async with bus:
        message = await bus.publish("orderPlaced", {"order_id": "o-5"})
        await started.wait()
    [attempt] = telemetry.spans("process orderPlaced")
    assert [e.name for e in attempt.events] == ["tidings.abandoned"]
    assert attempt.status.status_code is StatusCode.UNSET
    assert telemetry.total("tidings.delivery.attempts", **{"tidings.delivery.outcome": "abandoned"}) == 1
    assert telemetry.total("tidings.deliveries") == 0
    async with SQLiteStore(tmp_path / "events.db") as again:
        [row] = await again.deliveries([(message.id, "stock.hang")])
    assert row.status == "pending"


def test_an_attempt_told_twice_keeps_its_first_outcome(telemetry: Telemetry) -> None:
    from datetime import UTC, datetime
    from uuid import uuid4

    from tidings.runtime._telemetry import slot

    assert slot.hooks is not None
    message = Message("orderPlaced", Order(order_id="o-6"), id=uuid4(), emitted_at=datetime.now(UTC))
    attempt = slot.hooks.attempt(message, "stock.reserve", None)
    attempt.succeeded()
    attempt.failed(ValueError("late"), None)
    attempt.abandoned()
    [span] = telemetry.spans("process orderPlaced")
    assert span.status.status_code is StatusCode.UNSET and not span.events
    assert telemetry.total("tidings.delivery.attempts") == 1
    assert telemetry.total("tidings.deliveries", **{"tidings.delivery.outcome": "succeeded"}) == 1
