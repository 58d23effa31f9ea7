"""A handler ending in a BaseException that is not the bus's own cancellation (a CancelledError
from a task someone else cancelled, a custom BaseException, SystemExit) is a failed attempt:
counted, retried, dead at max_attempts; other subscribers and serial mode go on working. The
same holds for a remote subscriber's delivery from the broker."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.conftest import require_service
from tests.faults.support import SqlBackend, eventually
from tests.store.support import CATALOG
from tests.transports.conftest import NATS_URL, catalog, delete_stream
from tidings.runtime import EventBus, Message, Mode, RetryPolicy, SQLiteStore
from tidings.runtime.transports import NatsTransport

pytestmark = pytest.mark.anyio


class Poison(BaseException):
    pass


async def _foreign_cancel(message: Message[Any]) -> None:
    # Awaits a task someone else cancelled: asyncio raises CancelledError here.
    task = asyncio.get_running_loop().create_task(asyncio.sleep(10))
    asyncio.get_running_loop().call_soon(task.cancel)
    await task


async def _poison(message: Message[Any]) -> None:
    await anyio.sleep(0)
    raise Poison("not an Exception")


def _statuses(backend: SqlBackend) -> list[str]:
    return [r[0] for r in backend.admin("SELECT status FROM deliveries", ())]


async def _aborting_handler_is_a_failed_attempt(backend: SqlBackend, handler: Any, mode: Mode) -> None:
    ok: list[int] = []

    async def fine(message: Message[Any]) -> None:
        await anyio.sleep(0.001)
        ok.append(message.data.shipment_id)

    bus = EventBus(CATALOG, store=backend.new(), poll_interval=0.05)
    bus.on("shipmentCreated", handler, mode=mode, name="aborting")
    bus.on("shipmentCreated", fine, mode=mode, name="fine")
    async with bus:
        for i in range(3):
            await bus.publish("shipmentCreated", {"shipmentId": i})

        async def settled() -> bool:
            return all(s in ("succeeded", "dead") for s in _statuses(backend)) and len(ok) == 3

        await eventually(settled)
        await bus.publish("shipmentCreated", {"shipmentId": 3})  # serial mode still works
        await bus.drain()
    rows = backend.admin("SELECT subscriber, status, attempts, last_error FROM deliveries", ())
    aborting = [r for r in rows if r[0] == "aborting"]
    assert len(aborting) == 4
    for _, status, attempts, error in aborting:
        # shipment 3: the bus stops right after it; shutdown may leave it pending
        assert (status, attempts) == ("dead", 3) or status in ("pending", "failed"), rows
        if status == "dead":
            assert "HandlerAborted" in error
    assert sum(1 for r in aborting if r[1] == "dead") >= 3
    assert sorted(ok) == [0, 1, 2, 3]


@pytest.mark.parametrize("mode", ["async", "serial"])
async def test_a_foreign_cancelled_error_is_a_failed_attempt(
    sql_backend: SqlBackend, mode: Mode, anyio_backend: str
) -> None:
    if anyio_backend != "asyncio":
        pytest.skip("trio has no way to raise another task's cancellation into a handler")
    await _aborting_handler_is_a_failed_attempt(sql_backend, _foreign_cancel, mode)


@pytest.mark.parametrize("mode", ["async", "serial"])
async def test_a_base_exception_is_a_failed_attempt(sql_backend: SqlBackend, mode: Mode) -> None:
    await _aborting_handler_is_a_failed_attempt(sql_backend, _poison, mode)


async def test_a_remote_handlers_base_exception_is_a_failed_attempt(tmp_path: Path) -> None:
    # The same for a remote subscriber's delivery from the real NATS server: counted, retried
    # by the broker, dead at max_attempts; the consumer goes on with the next message.
    require_service("NATS", "127.0.0.1", 4222)
    catalog_name = f"t{uuid.uuid4().hex[:12]}"
    policy = RetryPolicy(max_attempts=3, initial_delay=0.01, max_delay=0.05, jitter=False)
    ok: list[int] = []

    async def handler(message: Message[Any]) -> None:
        await anyio.sleep(0)
        if message.data.document_id == 1:
            raise Poison("not an Exception")
        ok.append(message.data.document_id)

    producer = EventBus(catalog(catalog_name, policy), store=SQLiteStore(tmp_path / "p.db"),
                        transport=NatsTransport(NATS_URL, fetch_timeout=0.5))
    consumer_store = tmp_path / "c.db"
    consumer = EventBus(catalog(catalog_name, policy), store=SQLiteStore(consumer_store),
                        transport=NatsTransport(NATS_URL, fetch_timeout=0.5))
    consumer.on("documentUploaded", handler, mode="async", name="metis.read")

    def rows() -> list[tuple[Any, ...]]:
        with sqlite3.connect(consumer_store) as db:
            return db.execute("SELECT status, attempts, last_error FROM deliveries"
                              " ORDER BY message_id").fetchall()

    async def settled() -> bool:
        found = rows()
        return len(found) == 2 and all(r[0] in ("succeeded", "dead") for r in found)

    try:
        async with consumer, producer:
            await producer.publish("documentUploaded", {"documentId": 1})
            await producer.publish("documentUploaded", {"documentId": 2})
            await eventually(settled)
    finally:
        delete_stream(f"TIDINGS_{catalog_name.upper()}")
    (poisoned, fine) = rows()
    assert poisoned[:2] == ("dead", 3), poisoned
    assert "HandlerAborted" in poisoned[2] and "Poison" in poisoned[2], poisoned
    assert fine[:2] == ("succeeded", 1) and ok == [2]


async def test_a_remote_handlers_system_exit_is_recorded_then_stops_the_bus(tmp_path: Path) -> None:
    # SystemExit from a remote subscriber's handler: the attempt is in the log (failed, with the
    # reason) before the bus stops, and leaving `async with bus:` raises it.
    require_service("NATS", "127.0.0.1", 4222)
    catalog_name = f"t{uuid.uuid4().hex[:12]}"

    async def handler(message: Message[Any]) -> None:
        await anyio.sleep(0)
        raise SystemExit(3)

    producer = EventBus(catalog(catalog_name), store=SQLiteStore(tmp_path / "p.db"),
                        transport=NatsTransport(NATS_URL, fetch_timeout=0.5))
    consumer = EventBus(catalog(catalog_name), store=SQLiteStore(tmp_path / "c.db"),
                        transport=NatsTransport(NATS_URL, fetch_timeout=0.5))
    consumer.on("documentUploaded", handler, mode="async", name="metis.read")
    try:
        async with producer:
            with pytest.raises(SystemExit) as stopped:
                async with consumer:
                    await producer.publish("documentUploaded", {"documentId": 1})
                    with anyio.fail_after(20):
                        await anyio.sleep_forever()
    finally:
        delete_stream(f"TIDINGS_{catalog_name.upper()}")
    assert stopped.value.code == 3
    with sqlite3.connect(tmp_path / "c.db") as db:
        rows = db.execute("SELECT status, attempts, last_error FROM deliveries").fetchall()
    assert len(rows) == 1 and rows[0][:2] == ("failed", 1), rows
    assert "HandlerAborted" in rows[0][2] and "SystemExit" in rows[0][2], rows
