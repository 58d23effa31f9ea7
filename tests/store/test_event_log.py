"""The event log's behaviour, the same on MemoryStore, SQLiteStore and PostgresStore."""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import anyio
import pydantic
import pytest

from tests.store.support import CATALOG, Backend
from tidings.runtime import EventBus, Message, RetryPolicy
from tidings.runtime.stores import LogEntry, StoredMessage

pytestmark = pytest.mark.anyio


async def read_log(backend: Backend, **filters: Any) -> list[LogEntry]:
    async with backend.new() as store:
        return await store.log(limit=100_000, **filters)


def statuses(entries: list[LogEntry]) -> Counter[str]:
    return Counter(d.status for e in entries for d in e.deliveries)


async def eventually(check: Callable[[], Any], timeout: float = 10.0) -> None:
    """Wait until `check()` is truthy (a bound on waiting, not a timing assertion)."""
    with anyio.fail_after(timeout):
        while not await check():
            await anyio.sleep(0.02)


def make_bus(backend: Backend, **options: Any) -> EventBus:
    return EventBus(CATALOG, store=backend.new(), poll_interval=0.05, **options)


async def test_every_message_and_delivery_is_stored(backend: Backend) -> None:
    bus = make_bus(backend)
    got: list[tuple[str, int]] = []

    def tasks(message: Message[Any]) -> None:
        got.append(("tasks", message.data.shipment_id))

    async def email(message: Message[Any]) -> None:
        await anyio.sleep(0)
        got.append(("email", message.data.shipment_id))

    bus.on("shipmentCreated", tasks, name="tasks")
    bus.on("shipmentCreated", email, name="email", mode="async")
    bus.on(["shipmentCreated", "shipmentDeparted"], lambda m: None, name="crm", mode="serial")
    async with bus:
        first = await bus.publish("shipmentCreated", {"shipmentId": 1}, producer="core")
        assert ("tasks", 1) in got  # sync subscribers ran before emit returned
        second = await bus.publish("shipmentDeparted", {"shipmentId": 1})
    assert sorted(got) == [("email", 1), ("tasks", 1)]
    entries = await read_log(backend)
    assert [e.message.id for e in entries] == [first.id, second.id]
    stored = entries[0].message
    assert stored.name == "shipmentCreated" and stored.version == 1 and stored.producer == "core"
    assert pydantic.TypeAdapter(dict[str, int]).validate_json(stored.payload) == {"shipmentId": 1}
    assert stored.correlation_id == first.id and stored.causation_id is None
    assert {(d.subscriber, d.status, d.attempts) for d in entries[0].deliveries} == {
        ("tasks", "succeeded", 1), ("email", "succeeded", 1), ("crm", "succeeded", 1)
    }
    assert [(d.subscriber, d.status) for d in entries[1].deliveries] == [("crm", "succeeded")]


async def test_bad_input_is_rejected_before_anything_is_stored(backend: Backend) -> None:
    bus = make_bus(backend)
    bus.on("shipmentCreated", lambda m: None, name="tasks")
    with pytest.raises(RuntimeError, match="async with bus"):
        await bus.emit("shipmentCreated", {"shipmentId": 1})
    async with bus:
        with pytest.raises(pydantic.ValidationError, match="shipmentId"):
            await bus.emit("shipmentCreated", {"shipmentId": "nope"})
        with pytest.raises(KeyError, match="known names"):
            await bus.emit("shipmentCreatd", {"shipmentId": 1})
    assert await read_log(backend) == []


async def test_failed_deliveries_are_retried_then_succeed(backend: Backend) -> None:
    bus = make_bus(backend)
    calls: list[int] = []

    async def flaky(message: Message[Any]) -> None:
        calls.append(message.attempt)
        if message.attempt < 3:
            raise ConnectionError(f"CRM down (attempt {message.attempt})")

    bus.on("shipmentCreated", flaky, name="flaky", mode="async")
    async with bus:
        message = await bus.publish("shipmentCreated", {"shipmentId": 7})
        store = bus.store
        assert store is not None

        async def done() -> bool:
            return [d.status for d in await store.deliveries([(message.id, "flaky")])] == ["succeeded"]

        await eventually(done)
    assert calls == [1, 2, 3]
    [delivery] = (await read_log(backend))[0].deliveries
    assert delivery.attempts == 3 and delivery.status == "succeeded"
    assert delivery.last_error is not None and "CRM down (attempt 2)" in delivery.last_error
    assert "Traceback" in delivery.last_error


async def test_deliveries_go_dead_after_max_attempts_or_a_non_retryable_error(backend: Backend) -> None:
    bus = make_bus(backend)

    def always(message: Message[Any]) -> None:
        raise RuntimeError("template missing")

    def fatal(message: Message[Any]) -> None:
        raise KeyError("no such shipment")

    bus.on("shipmentCreated", always, name="always", mode="async")
    bus.on("shipmentCreated", fatal, name="fatal", mode="async",
           retry=RetryPolicy(max_attempts=5, initial_delay=0.001, retry_on=(ConnectionError,)))
    async with bus:
        await bus.emit("shipmentCreated", {"shipmentId": 1})

        async def settled() -> bool:
            return statuses(await read_log(backend)) == Counter(dead=2)

        await eventually(settled)
    rows = {d.subscriber: d for d in (await read_log(backend))[0].deliveries}
    assert rows["always"].attempts == 3 and "template missing" in (rows["always"].last_error or "")
    assert rows["fatal"].attempts == 1 and "no such shipment" in (rows["fatal"].last_error or "")


async def test_a_failing_sync_subscriber_fails_emit_and_is_retried_later(backend: Backend) -> None:
    bus = make_bus(backend)
    attempts: list[int] = []

    def handler(message: Message[Any]) -> None:
        attempts.append(message.attempt)
        if message.attempt == 1:
            raise ValueError("first time unlucky")

    bus.on("shipmentCreated", handler, name="sync")
    async with bus:
        with pytest.raises(ExceptionGroup) as caught:
            await bus.emit("shipmentCreated", {"shipmentId": 1})
        assert isinstance(caught.value.exceptions[0], ValueError)

        async def retried() -> bool:
            return statuses(await read_log(backend)) == Counter(succeeded=1)

        await eventually(retried)
    assert attempts == [1, 2]


async def test_serial_order_holds_under_failure_and_retry(backend: Backend) -> None:
    bus = make_bus(backend)
    seen: list[tuple[int, int]] = []
    running = 0

    async def crm(message: Message[Any]) -> None:
        nonlocal running
        running += 1
        assert running == 1, "a serial subscriber never runs two deliveries at once"
        await anyio.sleep(0)
        seen.append((message.data.shipment_id, message.attempt))
        running -= 1
        if message.data.shipment_id == 2 and message.attempt < 3:
            raise ConnectionError("CRM rate limit")

    bus.on("shipmentCreated", crm, name="crm", mode="serial")
    async with bus:
        for i in range(6):
            await bus.emit("shipmentCreated", {"shipmentId": i})
        await bus.drain()
    assert seen == [(0, 1), (1, 1), (2, 1), (2, 2), (2, 3), (3, 1), (4, 1), (5, 1)]
    assert statuses(await read_log(backend)) == Counter(succeeded=6)


async def test_sync_async_and_serial_under_100_concurrent_publishers(backend: Backend) -> None:
    bus = make_bus(backend)
    seen: Counter[str] = Counter()
    serial_running = 0

    def sync(message: Message[Any]) -> None:
        seen["sync"] += 1

    async def background(message: Message[Any]) -> None:
        await anyio.sleep(0)
        seen["async"] += 1

    async def serial(message: Message[Any]) -> None:
        nonlocal serial_running
        serial_running += 1
        assert serial_running == 1
        await anyio.sleep(0)
        serial_running -= 1
        seen["serial"] += 1

    bus.on("shipmentCreated", sync, name="sync")
    bus.on("shipmentCreated", background, name="async", mode="async")
    bus.on("shipmentCreated", serial, name="serial", mode="serial")

    async def publisher(n: int) -> None:
        for i in range(5):
            await bus.emit("shipmentCreated", {"shipmentId": n * 100 + i})

    async with bus, anyio.create_task_group() as tg:
        for n in range(100):
            tg.start_soon(publisher, n)
    assert seen == Counter(sync=500, serial=500, async_=0) + Counter({"async": 500})
    entries = await read_log(backend)
    assert len(entries) == 500 and statuses(entries) == Counter(succeeded=1500)


async def test_a_restarted_bus_recovers_deliveries_left_by_a_crash(backend: Backend) -> None:
    # What a crashed process leaves behind: a running delivery with a stale lease, a pending one.
    now = datetime.now(UTC)
    crashed = StoredMessage(uuid4(), "shipmentCreated", 1, '{"shipmentId": 5}', now, uuid4(), None, None)
    async with backend.new() as store:
        await store.append(crashed, ["tasks", "email"], "dead-host:1:x", now - timedelta(seconds=1))
        await store.append(
            StoredMessage(uuid4(), "shipmentCreated", 1, '{"shipmentId": 6}', now, uuid4(), None, None),
            ["tasks"], "live-host:2:y", now + timedelta(hours=1),
        )
    backend.admin(
        "UPDATE deliveries SET status = 'pending', owner = NULL WHERE message_id = ? AND subscriber = ?",
        (str(crashed.id), "email"),
    )
    ran: list[tuple[str, int, int]] = []
    bus = make_bus(backend)
    bus.on("shipmentCreated", lambda m: ran.append(("tasks", m.data.shipment_id, m.attempt)), name="tasks")
    bus.on("shipmentCreated", lambda m: ran.append(("email", m.data.shipment_id, m.attempt)), name="email")
    async with bus:
        async def recovered() -> bool:
            return len(ran) == 2

        await eventually(recovered)
    # The delivery still leased by a live bus is left alone.
    assert sorted(ran) == [("email", 5, 2), ("tasks", 5, 2)]
    rows = {(e.message.id, d.subscriber): d.status for e in await read_log(backend) for d in e.deliveries}
    assert rows[(crashed.id, "tasks")] == rows[(crashed.id, "email")] == "succeeded"


async def test_replay_reruns_only_the_named_deliveries(backend: Backend) -> None:
    bus = make_bus(backend)
    ran: Counter[str] = Counter()
    bus.on("shipmentCreated", lambda m: ran.update(["tasks"]), name="tasks")
    bus.on("shipmentCreated", lambda m: ran.update(["email"]), name="email", mode="async")
    async with bus:
        message = await bus.publish("shipmentCreated", {"shipmentId": 1})
        await bus.drain()
        rows = await bus.replay(message.id, "email")
        assert [(r.subscriber, r.status, r.attempts) for r in rows] == [("email", "succeeded", 1)]
        assert ran == Counter(tasks=1, email=2)
        rows = await bus.replay(str(message.id))
        assert sorted((r.subscriber, r.status) for r in rows) == [
            ("email", "succeeded"), ("tasks", "succeeded")
        ]
    assert ran == Counter(tasks=2, email=3)


async def test_replay_failed_filters_by_subscriber_name_and_time(backend: Backend) -> None:
    bus = make_bus(backend)
    broken = {"tasks", "email"}

    def handler_for(name: str) -> Callable[[Message[Any]], None]:
        def handler(message: Message[Any]) -> None:
            if name in broken:
                raise KeyError(f"{name} broken")
        return handler

    bus.on(["shipmentCreated", "shipmentDeparted"], handler_for("tasks"), name="tasks", mode="async")
    bus.on(["shipmentCreated", "shipmentDeparted"], handler_for("email"), name="email", mode="async")
    async with bus:
        await bus.emit("shipmentCreated", {"shipmentId": 1})
        await bus.emit("shipmentDeparted", {"shipmentId": 1})

        async def all_dead() -> bool:
            return statuses(await read_log(backend)) == Counter(dead=4)

        await eventually(all_dead)
        broken.clear()
        assert await bus.replay_failed(since=datetime.now(UTC) + timedelta(minutes=1)) == []
        rows = await bus.replay_failed(subscriber="tasks", name="shipmentDeparted")
        assert [(r.subscriber, r.status) for r in rows] == [("tasks", "succeeded")]
        assert statuses(await read_log(backend)) == Counter(dead=3, succeeded=1)
        rows = await bus.replay_failed()
        assert [r.status for r in rows] == ["succeeded"] * 3


async def test_setting_a_row_back_to_pending_in_sql_is_picked_up_by_a_running_bus(backend: Backend) -> None:
    bus = EventBus(CATALOG, store=backend.new(), poll_interval=1.0 if backend.kind == "postgres" else 0.2)
    ran: list[int] = []
    bus.on("shipmentCreated", lambda m: ran.append(m.attempt), name="email", mode="async")
    async with bus:
        message = await bus.publish("shipmentCreated", {"shipmentId": 1})
        await bus.drain()
        assert ran == [1] and bus.store is not None
        await bus.store.flush()  # the outcome is committed: what an admin sees is final
        backend.admin(
            "UPDATE deliveries SET status = 'pending' WHERE message_id = ? AND subscriber = ?",
            (str(message.id), "email"),
        )

        async def picked_up() -> bool:
            return len(ran) == 2

        await eventually(picked_up, timeout=5.0)
    assert ran == [1, 2]


async def test_handlers_see_correlation_and_causation_in_the_log(backend: Backend) -> None:
    bus = make_bus(backend)

    async def ask_email(message: Message[Any]) -> None:
        if message.data.shipment_id == 2 and message.attempt == 1:
            raise ConnectionError("retried later, by the background loop")
        await bus.emit("EMAIL_Ask", {"shipmentId": message.data.shipment_id})

    bus.on("shipmentCreated", ask_email, name="core", mode="async")
    bus.on("EMAIL_Ask", lambda m: None, name="email")
    async with bus:
        first = await bus.publish("shipmentCreated", {"shipmentId": 1})
        second = await bus.publish("shipmentCreated", {"shipmentId": 2})

        async def retried() -> bool:
            return len(await read_log(backend, correlation_id=second.id)) == 2

        await eventually(retried)
    thread = await read_log(backend, correlation_id=second.id)
    assert [e.message.name for e in thread] == ["shipmentCreated", "EMAIL_Ask"]
    assert thread[1].message.causation_id == second.id
    thread = await read_log(backend, correlation_id=first.id)
    assert [e.message.name for e in thread] == ["shipmentCreated", "EMAIL_Ask"]
    assert thread[1].message.causation_id == first.id
    assert thread[1].message.correlation_id == first.id


async def test_graceful_shutdown_leaves_unfinished_work_pending_for_the_next_start(backend: Backend) -> None:
    release = anyio.Event()
    started: list[int] = []

    async def slow(message: Message[Any]) -> None:
        started.append(message.data.shipment_id)
        await release.wait()

    bus = make_bus(backend, shutdown_timeout=0.2)
    bus.on("shipmentCreated", slow, name="crm", mode="serial")
    async with bus:
        for i in range(3):
            await bus.emit("shipmentCreated", {"shipmentId": i})
        with anyio.fail_after(5):
            while not started:
                await anyio.sleep(0.01)
    assert started == [0]
    assert statuses(await read_log(backend)) == Counter(pending=3)
    again = make_bus(backend)
    done: list[int] = []
    again.on("shipmentCreated", lambda m: done.append(m.data.shipment_id), name="crm", mode="serial")
    async with again:
        async def finished() -> bool:
            return len(done) == 3

        await eventually(finished)
    assert done == [0, 1, 2]
    entries = await read_log(backend)
    assert statuses(entries) == Counter(succeeded=3)
    # The interrupted delivery counts its attempt; the ones that never started do not.
    assert [e.deliveries[0].attempts for e in entries] == [2, 1, 1]


async def test_fault_injection_every_delivery_ends_succeeded_or_dead_then_replay_heals(
    backend: Backend,
) -> None:
    rng = random.Random(4)
    faulty = True
    bus = make_bus(backend)

    def handler_for(name: str) -> Callable[[Message[Any]], Any]:
        async def handler(message: Message[Any]) -> None:
            await anyio.sleep(0)
            if faulty and rng.random() < 0.3:
                raise ConnectionError(f"{name}: injected fault")
        return handler

    bus.on("shipmentCreated", handler_for("tasks"), name="tasks")
    bus.on("shipmentCreated", handler_for("email"), name="email", mode="async")
    bus.on("shipmentCreated", handler_for("crm"), name="crm", mode="serial")

    async def publisher(n: int) -> None:
        for i in range(10):
            # A failing sync subscriber fails emit; its delivery is retried in the background.
            with contextlib.suppress(ExceptionGroup):
                await bus.emit("shipmentCreated", {"shipmentId": n * 100 + i})

    async with bus:
        async with anyio.create_task_group() as tg:
            for n in range(30):
                tg.start_soon(publisher, n)

        async def settled() -> bool:
            counts = statuses(await read_log(backend))
            return set(counts) <= {"succeeded", "dead"}

        await eventually(settled, timeout=20)
        entries = await read_log(backend)
        counts = statuses(entries)
        assert len(entries) == 300 and counts["succeeded"] + counts["dead"] == 900
        assert counts["dead"] > 0, "with 30% faults and 3 attempts some deliveries die"
        for entry in entries:
            for delivery in entry.deliveries:
                if delivery.status == "dead":
                    assert delivery.attempts == 3
                    assert "injected fault" in (delivery.last_error or "")
        faulty = False
        rows = await bus.replay_failed()
        assert len(rows) == counts["dead"] and {r.status for r in rows} == {"succeeded"}
    assert statuses(await read_log(backend)) == Counter(succeeded=900)


async def test_observers_get_no_rows_and_unsubscribed_handlers_are_not_claimed(backend: Backend) -> None:
    bus = make_bus(backend)
    ran: list[int] = []

    def flaky(message: Message[Any]) -> None:
        ran.append(message.attempt)
        raise ConnectionError("down")

    off = bus.on("shipmentCreated", flaky, name="flaky", mode="async")
    async with bus:
        first, second = bus.once("shipmentCreated"), bus.once("shipmentCreated")
        iterator = bus.events("shipmentCreated")
        await bus.emit_serial("shipmentCreated", {"shipmentId": 1})
        assert (await first).data.shipment_id == (await second).data.shipment_id == 1
        assert (await iterator.__anext__()).data.shipment_id == 1
        await iterator.aclose()
        await bus.drain()
        off()  # its failed delivery is not retried by this bus any more
        await anyio.sleep(0.2)
    assert ran == [1]
    [entry] = await read_log(backend)
    assert [(d.subscriber, d.status) for d in entry.deliveries] == [("flaky", "failed")]
