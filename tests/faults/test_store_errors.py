"""Driver errors reach `publish` as `StoreError` with the cause, on both SQL stores."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import anyio
import pytest

from tests.faults.support import SqlBackend, open_backend
from tests.store.support import CATALOG
from tidings.runtime import EventBus
from tidings.runtime.stores import StoredMessage, StoreError

pytestmark = pytest.mark.anyio


async def test_a_write_lock_held_too_long_is_a_store_error(sql_backend: SqlBackend) -> None:
    bus = EventBus(CATALOG, store=sql_backend.new(busy_timeout=0.2, retry_for=1.0))
    bus.on("shipmentCreated", lambda m: None, name="tasks")
    async with bus:
        await bus.publish("shipmentCreated", {"shipmentId": 1})
        release = sql_backend.hold_lock()
        try:
            with pytest.raises(StoreError, match="not stored") as caught:
                await bus.publish("shipmentCreated", {"shipmentId": 2})
        finally:
            release()
        assert caught.value.__cause__ is not None
        assert "lock" in str(caught.value)
        await bus.publish("shipmentCreated", {"shipmentId": 3})  # the database is back
    rows = sql_backend.admin("SELECT count(*) FROM messages", ())
    assert rows == [(2,)]


async def test_a_row_postgresql_refuses_is_a_store_error(tmp_path: Path) -> None:
    # A NUL reaches PostgreSQL only past validation (`check_storable` refuses it before): what
    # the database refuses comes back as StoreError with the cause, never the driver's own
    # exception, and the other messages of the same group commit are stored.
    with open_backend("postgres", tmp_path) as backend:
        async with backend.new() as store:
            def message(payload: str) -> StoredMessage:
                mid = uuid4()
                return StoredMessage(mid, "shipmentCreated", 1, payload, datetime.now(UTC), mid,
                                     None, "core")

            good, bad = message('{"shipmentId": 1}'), message('{"shipmentId": 2, "x": "\\u0000"}')
            async with anyio.create_task_group() as tg:
                tg.start_soon(store.append, good, ["tasks"], "me", datetime.now(UTC))
                with pytest.raises(StoreError, match=rf"message {bad.id} not stored") as caught:
                    await store.append(bad, ["tasks"], "me", datetime.now(UTC))
            assert "\\u0000" in str(caught.value) and caught.value.__cause__ is not None
        assert backend.admin("SELECT id FROM messages", ()) == [(good.id,)]
