"""A group commit that fails (a full disk, a write lock held by another process) drops nothing:
the delivery outcomes stay queued and are written once the database is back; the emits that
could not be stored raise StoreError; no handler runs twice."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.faults.support import SqlBackend, eventually, fill, small_filesystem, sqlite_backend
from tests.store.support import CATALOG
from tidings.runtime import EventBus, Message
from tidings.runtime.stores import StoreError

pytestmark = pytest.mark.anyio


async def _outcomes_survive(backend: SqlBackend, fault: Any, lease: float) -> None:
    ran: Counter[int] = Counter()
    release = anyio.Event()

    async def email(message: Message[Any]) -> None:
        ran[message.data.shipment_id] += 1
        await release.wait()

    bus = EventBus(CATALOG, store=backend.new(busy_timeout=0.2, retry_for=1.0), poll_interval=0.05,
                   lease=lease)
    bus.on("shipmentCreated", email, name="email", mode="async")
    async with bus:
        for i in range(20):
            await bus.publish("shipmentCreated", {"shipmentId": i})
        await eventually(lambda: _true(len(ran) == 20))
        undo = fault()
        try:
            release.set()  # the 20 outcomes are recorded while the database cannot take them
            await anyio.sleep(0.3)
            with pytest.raises(StoreError, match="not stored"):
                await bus.publish("shipmentCreated", {"shipmentId": 99})
            await anyio.sleep(max(lease, 1.0) * 1.5)  # past the leases and the retry budget
        finally:
            undo()

        async def settled() -> bool:
            rows = backend.admin("SELECT status FROM deliveries", ())
            return Counter(r[0] for r in rows) == {"succeeded": 20}

        await eventually(settled)
    assert sorted(ran) == list(range(20)) and set(ran.values()) == {1}, ran


async def _true(value: bool) -> bool:
    return value


async def test_outcomes_survive_a_long_write_lock(sql_backend: SqlBackend) -> None:
    await _outcomes_survive(sql_backend, sql_backend.hold_lock, lease=1.0)


async def test_outcomes_survive_a_full_disk(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "small") as disk:
        backend = sqlite_backend(disk / "events.db")

        def full() -> Any:
            # An empty WAL first, so that every write needs new space on the full disk.
            backend.admin("PRAGMA wal_checkpoint(TRUNCATE)", ())
            filler = fill(disk)
            return filler.unlink

        await _outcomes_survive(backend, full, lease=1.0)


async def test_deliveries_in_hand_through_a_write_lock_longer_than_the_lease_run_once(
    sql_backend: SqlBackend,
) -> None:
    # While another process holds the write lock, the bus cannot renew its leases and they end
    # in the database; the deliveries are still in this bus's hands (running, or queued behind a
    # serial one), so once the lock is gone it must not claim them again for itself.
    lease = 0.6
    started: Counter[tuple[str, int]] = Counter()
    release = anyio.Event()

    def handler(subscriber: str) -> Any:
        async def handle(message: Message[Any]) -> None:
            started[(subscriber, message.data.shipment_id)] += 1
            await release.wait()

        return handle

    bus = EventBus(CATALOG, store=sql_backend.new(busy_timeout=0.2, retry_for=1.0),
                   poll_interval=0.05, lease=lease)
    bus.on("shipmentCreated", handler("email"), name="email", mode="async")
    bus.on("shipmentCreated", handler("crm"), name="crm", mode="serial")
    async with bus:
        for i in range(5):
            await bus.publish("shipmentCreated", {"shipmentId": i})
        await eventually(lambda: _true(len(started) == 6))  # 5 emails, the first crm
        undo = sql_backend.hold_lock()
        try:
            await anyio.sleep(lease * 4)  # the leases end in the database meanwhile
        finally:
            undo()
        await anyio.sleep(lease * 2)  # claims run meanwhile (every poll_interval)
        release.set()

        async def settled() -> bool:
            rows = sql_backend.admin("SELECT status FROM deliveries", ())
            return Counter(r[0] for r in rows) == {"succeeded": 10}

        await eventually(settled)
    assert len(started) == 10 and set(started.values()) == {1}, started
