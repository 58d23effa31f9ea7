"""Shutdown is bounded by `shutdown_timeout` (plus the short grace cancelled deliveries get to
unwind) in every mode: for a serial subscriber with deliveries queued behind a hung one, and
for a handler that shields itself from cancellation, which is left running detached (logged,
its row left for the next start once the lease ends) while `async with bus:` returns."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.conftest import require_service
from tests.faults.support import SqlBackend
from tests.store.support import CATALOG
from tests.transports.conftest import NATS_URL, catalog, delete_stream
from tidings.runtime import EventBus, Message, Mode, SQLiteStore
from tidings.runtime.transports import NatsTransport

pytestmark = pytest.mark.anyio

HANG_GUARD = 20.0  # seconds: set free a handler the bus waited for, so a failing test ends


class Stubborn:
    """A handler that ignores the shutdown's cancellation until `release` is set (by the test,
    or by `hang_guard` after HANG_GUARD seconds, so that a failing test ends)."""

    def __init__(self) -> None:
        self.started, self.release, self.finished = anyio.Event(), anyio.Event(), anyio.Event()

    async def __call__(self, message: Message[Any]) -> None:
        self.started.set()
        try:
            with anyio.CancelScope(shield=True):
                await self.release.wait()
        finally:
            self.finished.set()

    async def hang_guard(self) -> None:
        await anyio.sleep(HANG_GUARD)
        self.release.set()


async def test_serial_shutdown_with_a_queue_behind_a_hung_delivery_is_bounded(
    sql_backend: SqlBackend,
) -> None:
    # One deadline: at `shutdown_timeout` the hung delivery is cancelled and the queue behind it
    # released at once (back to `pending`, never started), not waited for again. What the
    # handler saw and the rows say it, not the wall clock; `fail_after` only guards a hang.
    started: list[int] = []
    cancelled: list[int] = []

    async def hung(message: Message[Any]) -> None:
        started.append(message.data.shipment_id)
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.append(message.data.shipment_id)

    bus = EventBus(CATALOG, store=sql_backend.new(), poll_interval=0.05, shutdown_timeout=0.5)
    bus.on("shipmentCreated", hung, mode="serial", name="hung")
    with anyio.fail_after(HANG_GUARD):
        async with bus:
            for i in range(5):
                await bus.publish("shipmentCreated", {"shipmentId": i})
            while not started:
                await anyio.sleep(0.01)
    assert started == [0] and cancelled == [0], (started, cancelled)
    rows = sql_backend.admin("SELECT status, count(*) FROM deliveries GROUP BY status", ())
    assert dict(rows) == {"pending": 5}, rows  # all left for the next start


@pytest.mark.parametrize("mode", ["async", "serial"])
async def test_a_handler_that_shields_itself_does_not_keep_the_bus_from_stopping(
    sql_backend: SqlBackend, mode: Mode, caplog: pytest.LogCaptureFixture
) -> None:
    stubborn = Stubborn()
    started, release, finished, hang_guard = (stubborn.started, stubborn.release, stubborn.finished,
                                              stubborn.hang_guard)

    bus = EventBus(CATALOG, store=sql_backend.new(), poll_interval=0.05, shutdown_timeout=0.2)
    bus.on("shipmentCreated", stubborn, mode=mode, name="stubborn")
    async with anyio.create_task_group() as guard:
        guard.start_soon(hang_guard)
        with caplog.at_level(logging.ERROR, logger="tidings.bus"):
            async with bus:
                message = await bus.publish("shipmentCreated", {"shipmentId": 1})
                await started.wait()
        held = not release.is_set()
        guard.cancel_scope.cancel()
    assert held, "`async with bus:` waited for a handler that ignores cancellation"
    assert not finished.is_set()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("stubborn" in e and str(message.id) in e for e in errors), errors
    # Left as it was: running under this bus's lease, which nobody renews any more, so
    # another start runs it again once the lease ends.
    rows = sql_backend.admin("SELECT status, owner FROM deliveries", ())
    assert [r[0] for r in rows] == ["running"] and rows[0][1], rows

    release.set()  # the detached handler ends; nothing breaks when it does
    with anyio.fail_after(HANG_GUARD):
        await finished.wait()
        await anyio.sleep(0.05)
    async with bus:  # the same bus starts again and works
        await bus.publish("shipmentCreated", {"shipmentId": 2})
        await bus.drain()
    assert finished.is_set()


async def test_a_remote_handler_that_shields_itself_does_not_keep_the_bus_from_stopping(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The same on a bus with a transport: a remote subscriber's delivery from the real NATS.
    require_service("NATS", "127.0.0.1", 4222)
    name = f"t{uuid.uuid4().hex[:12]}"
    stubborn = Stubborn()
    started, release, finished, hang_guard = (stubborn.started, stubborn.release, stubborn.finished,
                                              stubborn.hang_guard)

    producer = EventBus(catalog(name), store=SQLiteStore(tmp_path / "p.db"),
                        transport=NatsTransport(NATS_URL, fetch_timeout=0.5))
    consumer = EventBus(catalog(name), store=SQLiteStore(tmp_path / "c.db"), shutdown_timeout=0.2,
                        transport=NatsTransport(NATS_URL, fetch_timeout=0.5))
    consumer.on("documentUploaded", stubborn, mode="async", name="metis.read")
    try:
        async with anyio.create_task_group() as guard:
            guard.start_soon(hang_guard)
            with caplog.at_level(logging.ERROR, logger="tidings.bus"):
                async with consumer, producer:  # the consumer stops last
                    message = await producer.publish("documentUploaded", {"documentId": 1})
                    with anyio.fail_after(HANG_GUARD):
                        await started.wait()
            held = not release.is_set()
            guard.cancel_scope.cancel()
        assert held, "`async with bus:` waited for a remote handler that ignores cancellation"
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert any("metis.read" in e and str(message.id) in e for e in errors), errors
        release.set()
        with anyio.fail_after(HANG_GUARD):
            await finished.wait()
            await anyio.sleep(0.05)
    finally:
        release.set()
        delete_stream(f"TIDINGS_{name.upper()}")
