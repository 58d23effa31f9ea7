"""Shutdown is bounded by `shutdown_timeout` (plus the short grace cancelled deliveries get to
unwind), also for a serial subscriber with deliveries queued behind a hung one."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tests.faults.support import SqlBackend
from tests.store.support import CATALOG
from tidings.runtime import EventBus, Message

pytestmark = pytest.mark.anyio


async def test_serial_shutdown_with_a_queue_behind_a_hung_delivery_is_bounded(
    sql_backend: SqlBackend,
) -> None:
    timeout = 3.0
    started = anyio.Event()

    async def hung(message: Message[Any]) -> None:
        started.set()
        await anyio.sleep_forever()

    bus = EventBus(CATALOG, store=sql_backend.new(), poll_interval=0.05, shutdown_timeout=timeout)
    bus.on("shipmentCreated", hung, mode="serial", name="hung")
    async with bus:
        for i in range(5):
            await bus.publish("shipmentCreated", {"shipmentId": i})
        await started.wait()
        closing = anyio.current_time()
    # A bound, not a benchmark: one timeout and the grace, not two timeouts (as it was).
    assert anyio.current_time() - closing < timeout * 2 - 0.5
    rows = sql_backend.admin("SELECT status, count(*) FROM deliveries GROUP BY status", ())
    assert dict(rows) == {"pending": 5}, rows  # all left for the next start
