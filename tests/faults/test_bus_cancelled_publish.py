"""A `publish` cancelled by its caller (a request deadline) after the commit: the stored message
is still delivered, and nothing is left `running` after a clean exit."""

from __future__ import annotations

from collections import Counter
from typing import Any

import anyio
import pytest

from tests.faults.support import SqlBackend, eventually
from tests.store.support import CATALOG
from tidings.runtime import EventBus, Message, Mode

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("mode", ["async", "serial", "sync"])
async def test_a_cancelled_publish_is_still_delivered(sql_backend: SqlBackend, mode: Mode) -> None:
    ran: Counter[int] = Counter()

    async def handler(message: Message[Any]) -> None:
        await anyio.sleep(0)
        ran[message.data.shipment_id] += 1

    bus = EventBus(CATALOG, store=sql_backend.new(), poll_interval=0.05, lease=30.0)
    bus.on("shipmentCreated", handler, mode=mode, name="tasks")
    async with bus:
        for i in range(100):
            with anyio.move_on_after(0.0005):
                await bus.publish("shipmentCreated", {"shipmentId": i})

        async def settled() -> bool:
            rows = sql_backend.admin("SELECT status FROM deliveries", ())
            return all(r[0] == "succeeded" for r in rows)

        await eventually(settled, timeout=15)
    rows = sql_backend.admin("SELECT status, count(*) FROM deliveries GROUP BY status", ())
    stored = sql_backend.admin("SELECT count(*) FROM messages", ())[0][0]
    assert dict(rows) == {"succeeded": stored}, rows
    assert len(ran) == stored
    if mode != "sync":  # a sync handler cancelled with its caller runs again from the log
        assert set(ran.values()) == {1}
