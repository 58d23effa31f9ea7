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
