"""EventBus across processes' worth of buses, on every broker: the outbox relay, remote
subscribers, broker retries, dead letters in the consumer's log, replay, outages, shutdown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio
import pytest

from tests.transports._proxy import TcpProxy
from tests.transports.conftest import Broker, catalog
from tidings.runtime import EventBus, Message, RetryPolicy, SQLiteStore

pytestmark = pytest.mark.anyio
RELAY = "tidings.relay:"


async def until(predicate: Callable[[], object], timeout: float = 30.0) -> None:
    """Wait until `predicate()` is true (polled), or fail the test after `timeout` seconds."""
    with anyio.fail_after(timeout):
        while not predicate():
            await anyio.sleep(0.02)


def bus(broker: Broker, path: Path, port: int | None = None, **options: Any) -> EventBus:
    return EventBus(catalog(broker.catalog_name), store=SQLiteStore(path),
                    transport=broker.transport(port), **options)


async def statuses(bus: EventBus, subscriber: str) -> dict[int, str]:
    assert bus.store is not None
    found: dict[int, str] = {}
    for entry in await bus.store.log(limit=100_000):
        for delivery in entry.deliveries:
            if delivery.subscriber == subscriber:
                found[int(entry.message.payload.split(":")[1].split(",")[0].strip(" }"))] = delivery.status
    return found


async def test_distributed_event_crosses_with_its_identity(broker: Broker, tmp_path: Path) -> None:
    producer, consumer = bus(broker, tmp_path / "p.db"), bus(broker, tmp_path / "c.db")
    got: list[Message[Any]] = []
    consumer.on("documentUploaded", got.append, mode="async", name="metis.read")
    async with producer, consumer:
        sent = await producer.publish("documentUploaded", {"documentId": 7, "note": "é\n\"x\""},
                                      producer="core")
        await until(lambda: got)
    message = got[0]
    assert (message.id, message.name, message.version, message.data) == (sent.id, sent.name,
                                                                          sent.version, sent.data)
    assert (message.correlation_id, message.causation_id, message.emitted_at, message.producer) == (
        sent.correlation_id, sent.causation_id, sent.emitted_at, "core")
    assert message.attempt == 1
    async with producer, consumer:
        assert producer.store is not None and consumer.store is not None
        [entry] = await producer.store.log()
        assert [(d.subscriber, d.status) for d in entry.deliveries] == [(RELAY + broker.kind, "succeeded")]
        [entry] = await consumer.store.log()
        assert entry.message == (await producer.store.log())[0].message
        assert [(d.subscriber, d.status, d.attempts) for d in entry.deliveries] == [
            ("metis.read", "succeeded", 1)]


async def test_causation_carries_across_the_wire(broker: Broker, tmp_path: Path) -> None:
    producer, consumer = bus(broker, tmp_path / "p.db"), bus(broker, tmp_path / "c.db")
    got: list[Message[Any]] = []

    async def analyze(message: Message[Any]) -> None:
        await consumer.emit("shipmentCreated", {"documentId": message.data.document_id})

    consumer.on("METIS_Analyze", analyze, mode="async", name="metis.analyze")
    consumer.on("shipmentCreated", got.append, name="local")
    async with producer, consumer:
        sent = await producer.publish("METIS_Analyze", {"documentId": 3})
        await until(lambda: got)
    assert got[0].causation_id == sent.id and got[0].correlation_id == sent.correlation_id


async def test_local_events_stay_local(broker: Broker, tmp_path: Path) -> None:
    producer, consumer = bus(broker, tmp_path / "p.db"), bus(broker, tmp_path / "c.db")
    here: list[Message[Any]] = []
    there: list[Message[Any]] = []
    producer.on("shipmentCreated", here.append, name="here")
    consumer.on("shipmentCreated", there.append, name="there")
    assert not consumer.subscribers["there"].remote
    remote: list[Message[Any]] = []
    consumer.on("documentUploaded", remote.append, mode="async", name="metis.read")
    async with producer, consumer:
        await producer.emit("shipmentCreated", {"documentId": 1})
        await producer.emit("documentUploaded", {"documentId": 2})
        await until(lambda: remote)
    assert len(here) == 1 and there == []
    async with producer:
        assert producer.store is not None
        rows = {e.message.name: [d.subscriber for d in e.deliveries] for e in await producer.store.log()}
    assert rows == {"shipmentCreated": ["here"], "documentUploaded": [RELAY + broker.kind]}


async def test_a_failure_is_retried_by_the_broker(broker: Broker, tmp_path: Path) -> None:
    producer, consumer = bus(broker, tmp_path / "p.db"), bus(broker, tmp_path / "c.db")
    attempts: list[int] = []

    def flaky(message: Message[Any]) -> None:
        attempts.append(message.attempt)
        if message.attempt == 1:
            raise RuntimeError("first time")

    consumer.on("documentUploaded", flaky, mode="async", name="metis.read")
    async with producer, consumer:
        await producer.emit("documentUploaded", {"documentId": 1})
        await until(lambda: attempts == [1, 2])
        assert consumer.store is not None
        await consumer.store.flush()
        [entry] = await consumer.store.log()
        [delivery] = entry.deliveries
        assert (delivery.status, delivery.attempts) == ("succeeded", 2)
        assert delivery.last_error is not None and "first time" in delivery.last_error


async def test_dead_in_the_consumers_log_then_replayed(broker: Broker, tmp_path: Path) -> None:
    producer, consumer = bus(broker, tmp_path / "p.db"), bus(broker, tmp_path / "c.db")
    attempts: list[int] = []
    healed = False

    def poisoned(message: Message[Any]) -> None:
        attempts.append(message.attempt)
        if not healed:
            raise ValueError("cannot read this document")

    consumer.on("documentUploaded", poisoned, mode="async", name="metis.read")
    async with producer, consumer:
        sent = await producer.publish("documentUploaded", {"documentId": 1})
        await until(lambda: len(attempts) == 3)
        assert consumer.store is not None
        store = consumer.store

        async def dead() -> bool:
            rows = await store.deliveries([(sent.id, "metis.read")])
            return bool(rows) and rows[0].status == "dead"

        with anyio.fail_after(10):
            while not await dead():
                await anyio.sleep(0.02)
        await anyio.sleep(0.5)  # acked: the broker does not bring it back
        assert attempts == [1, 2, 3]
        healed = True
        [row] = await consumer.replay(sent.id, timeout=10)
    assert row.status == "succeeded" and attempts[-1] == 1  # a replay starts a fresh budget


async def test_one_subscriber_name_in_two_processes_shares_the_work(broker: Broker, tmp_path: Path) -> None:
    producer = bus(broker, tmp_path / "p.db")
    first, second = bus(broker, tmp_path / "c1.db"), bus(broker, tmp_path / "c2.db")
    handled: list[int] = []

    async def read(message: Message[Any]) -> None:
        await anyio.sleep(0.001)
        handled.append(message.data.document_id)

    first.on("documentUploaded", read, mode="async", name="metis.read")
    second.on("documentUploaded", read, mode="async", name="metis.read")
    async with producer, first, second:
        for n in range(200):
            await producer.emit("documentUploaded", {"documentId": n})
        await until(lambda: len(set(handled)) == 200)
        await anyio.sleep(0.3)
    # One durable consumer (queue) for both: each message goes to one of them, not to both
    # (at least once: SQS may hand a message out twice now and then).
    assert set(handled) == set(range(200)) and len(handled) - 200 <= 3


async def test_two_subscriber_names_each_get_everything(broker: Broker, tmp_path: Path) -> None:
    producer, consumer = bus(broker, tmp_path / "p.db"), bus(broker, tmp_path / "c.db")
    reads: list[int] = []
    tasks: list[int] = []
    consumer.on("documentUploaded", lambda m: reads.append(m.data.document_id), mode="async", name="reads")
    consumer.on("documentUploaded", lambda m: tasks.append(m.data.document_id), mode="async", name="tasks")
    async with producer, consumer:
        for n in range(20):
            await producer.emit("documentUploaded", {"documentId": n})
        await until(lambda: len(reads) == 20 and len(tasks) == 20)
    assert sorted(reads) == sorted(tasks) == list(range(20))


async def test_serial_remote_takes_one_at_a_time_in_order(broker: Broker, tmp_path: Path) -> None:
    producer, consumer = bus(broker, tmp_path / "p.db"), bus(broker, tmp_path / "c.db")
    order: list[int] = []
    running = 0
    overlap = False

    async def salesforce(message: Message[Any]) -> None:
        nonlocal running, overlap
        running += 1
        overlap = overlap or running > 1
        await anyio.sleep(0.002)
        order.append(message.data.document_id)
        running -= 1

    consumer.on("documentUploaded", salesforce, mode="serial", name="salesforce")
    async with producer, consumer:
        for n in range(30):
            await producer.emit_serial("documentUploaded", {"documentId": n})
        await until(lambda: len(order) == 30)
    assert order == list(range(30)) and not overlap


async def test_remote_subscriptions_that_cannot_be_honoured_are_refused(
    broker: Broker, tmp_path: Path
) -> None:
    consumer = bus(broker, tmp_path / "c.db")
    with pytest.raises(ValueError, match="sync mode cannot be honoured across the wire"):
        consumer.on("documentUploaded", print, name="sync")
    with pytest.raises(ValueError, match="'shipmentCreated' not distributed"):
        consumer.on(["documentUploaded", "shipmentCreated"], print, mode="async", name="mixed")
    with pytest.raises(ValueError, match="'shipmentCreated' not distributed"):
        consumer.on("shipmentCreated", print, mode="async", name="forced", remote=True)
    local = EventBus(catalog(broker.catalog_name), store=SQLiteStore(tmp_path / "l.db"))
    with pytest.raises(ValueError, match="remote=True needs an EventBus with a transport"):
        local.on("documentUploaded", print, mode="async", name="x", remote=True)
    with pytest.raises(ValueError, match="needs a store"):
        EventBus(catalog(broker.catalog_name), transport=broker.transport())
    consumer.on("documentUploaded", print, name="here only", remote=False)  # sync, this process only
    assert not consumer.subscribers["here only"].remote


async def test_the_outbox_holds_messages_while_the_broker_is_unreachable(
    broker: Broker, tmp_path: Path
) -> None:
    got: list[int] = []
    with TcpProxy(*broker.target) as proxy:
        producer = bus(broker, tmp_path / "p.db", port=proxy.port)
        consumer = bus(broker, tmp_path / "c.db")
        consumer.on("documentUploaded", lambda m: got.append(m.data.document_id), mode="async",
                    name="metis.read")
        async with producer, consumer:
            await producer.emit("documentUploaded", {"documentId": -1})
            await until(lambda: got == [-1])
            proxy.cut()
            for n in range(20):
                await producer.emit("documentUploaded", {"documentId": n})  # accepted: in the log
            await anyio.sleep(1.5)
            assert got == [-1]
            relay = await statuses(producer, RELAY + broker.kind)
            assert all(relay[n] in ("running", "failed") for n in range(20)), relay
            proxy.restore()
            await until(lambda: len(set(got)) == 21)
            with anyio.fail_after(30):  # a publish cut mid-answer is sent again (SNS: a duplicate)
                while set((await statuses(producer, RELAY + broker.kind)).values()) != {"succeeded"}:
                    await anyio.sleep(0.05)
    assert set(got) == set(range(-1, 20)) and len(got) <= 21 + 2


async def test_a_delivery_cut_short_by_shutdown_comes_back(broker: Broker, tmp_path: Path) -> None:
    producer = bus(broker, tmp_path / "p.db")
    first = bus(broker, tmp_path / "c1.db", shutdown_timeout=0.2)  # lease (ack wait): 30 s
    started = anyio.Event()
    seen: list[UUID] = []

    async def slow(message: Message[Any]) -> None:
        seen.append(message.id)
        started.set()
        await anyio.sleep_forever()

    first.on("documentUploaded", slow, mode="async", name="metis.read")
    async with producer:
        async with first:
            sent = await producer.publish("documentUploaded", {"documentId": 1})
            await started.wait()
        second = bus(broker, tmp_path / "c2.db")
        done: list[UUID] = []
        second.on("documentUploaded", lambda m: done.append(m.id), mode="async", name="metis.read")
        async with second:
            await until(lambda: done, timeout=10)  # handed back at shutdown, not after the ack wait
    assert seen == done == [sent.id]
    async with first:
        assert first.store is not None
        [entry] = await first.store.log()
        assert entry.deliveries[0].status == "running"  # the broker owns it; never claimed here


async def test_stopped_subscriber_stops_consuming(broker: Broker, tmp_path: Path) -> None:
    producer, consumer = bus(broker, tmp_path / "p.db"), bus(broker, tmp_path / "c.db")
    got: list[int] = []

    def read(message: Message[Any]) -> None:
        got.append(message.data.document_id)

    off = consumer.on("documentUploaded", read, mode="async", name="metis.read")
    async with producer, consumer:
        await producer.emit("documentUploaded", {"documentId": 1})
        await until(lambda: got == [1])
        off()
        await producer.emit("documentUploaded", {"documentId": 2})
        await anyio.sleep(1.0)
        assert got == [1]
        consumer.on("documentUploaded", read, mode="async", name="metis.read")
        await until(lambda: got == [1, 2])


async def test_retry_policy_per_subscriber_applies_remotely(broker: Broker, tmp_path: Path) -> None:
    producer, consumer = bus(broker, tmp_path / "p.db"), bus(broker, tmp_path / "c.db")
    attempts: list[int] = []

    def always(message: Message[Any]) -> None:
        attempts.append(message.attempt)
        raise RuntimeError("no")

    consumer.on("documentUploaded", always, mode="async", name="metis.read",
                retry=RetryPolicy(max_attempts=1))
    async with producer, consumer:
        await producer.emit("documentUploaded", {"documentId": 1})
        await until(lambda: attempts)
        await anyio.sleep(0.5)
    assert attempts == [1]


async def test_the_relay_is_no_listener_and_clear_listeners_stops_remote_ones(
    broker: Broker, tmp_path: Path
) -> None:
    producer, consumer = bus(broker, tmp_path / "p.db"), bus(broker, tmp_path / "c.db")
    assert producer.listener_count("documentUploaded") == 0
    assert RELAY + broker.kind in producer.subscribers
    got: list[int] = []
    consumer.on("documentUploaded", lambda m: got.append(m.data.document_id), mode="async",
                name="metis.read")
    async with producer, consumer:
        producer.clear_listeners()  # the outbox relay is not a listener: still relaying
        await producer.emit("documentUploaded", {"documentId": 1})
        await until(lambda: got == [1])
        consumer.clear_listeners("documentUploaded")
        await producer.emit("documentUploaded", {"documentId": 2})
        await anyio.sleep(1.0)
        assert got == [1]


async def test_a_handler_longer_than_the_ack_wait_keeps_its_message(broker: Broker, tmp_path: Path) -> None:
    producer = bus(broker, tmp_path / "p.db")
    first, second = bus(broker, tmp_path / "c1.db", lease=2.0), bus(broker, tmp_path / "c2.db", lease=2.0)
    handled: list[tuple[str, int]] = []

    def slow(who: str) -> Callable[[Message[Any]], Any]:
        async def handle(message: Message[Any]) -> None:
            await anyio.sleep(5.0)  # 2.5 ack waits: the bus reports progress every lease / 3
            handled.append((who, message.attempt))

        return handle

    first.on("documentUploaded", slow("first"), mode="async", name="metis.read")
    second.on("documentUploaded", slow("second"), mode="async", name="metis.read")
    async with producer, first, second:
        await producer.emit("documentUploaded", {"documentId": 1})
        await until(lambda: handled)
        await anyio.sleep(1.0)
    assert len(handled) == 1 and handled[0][1] == 1


async def test_leaving_the_block_lets_a_delivery_under_way_finish(broker: Broker, tmp_path: Path) -> None:
    producer, consumer = bus(broker, tmp_path / "p.db"), bus(broker, tmp_path / "c.db")
    started = anyio.Event()
    finished: list[int] = []

    async def read(message: Message[Any]) -> None:
        started.set()
        await anyio.sleep(0.5)
        finished.append(message.attempt)

    consumer.on("documentUploaded", read, mode="async", name="metis.read")
    async with producer:
        async with consumer:
            await producer.emit("documentUploaded", {"documentId": 1})
            await started.wait()
        assert finished == [1]  # not cancelled: shutdown waited for it
        again = bus(broker, tmp_path / "c2.db")
        seen: list[int] = []
        again.on("documentUploaded", lambda m: seen.append(1), mode="async", name="metis.read")
        async with again:
            await anyio.sleep(1.5)
        assert seen == []  # acked at the end: nothing comes again
