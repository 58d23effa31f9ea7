"""An SQLite file deleted or replaced under a running bus: emits fail loudly, none "succeeds"."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.store.support import CATALOG
from tidings.runtime import EventBus
from tidings.runtime.stores import SQLiteStore, StoreError

pytestmark = pytest.mark.anyio


def _delete(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _replace(path: Path) -> None:
    other = path.with_name("other.db")
    sqlite3.connect(other).close()
    os.replace(other, path)


@pytest.mark.parametrize("fault", [_delete, _replace], ids=["deleted", "replaced"])
async def test_emits_into_a_vanished_file_fail_with_store_error(tmp_path: Path, fault: object) -> None:
    path = tmp_path / "events.db"
    bus = EventBus(CATALOG, store=SQLiteStore(path), poll_interval=0.05)
    bus.on("shipmentCreated", lambda m: None, name="tasks")
    async with bus:
        await bus.publish("shipmentCreated", {"shipmentId": 1})
        assert callable(fault)
        fault(path)
        for i in range(2, 5):
            with pytest.raises(StoreError, match=r"events\.db.* (deleted|replaced)"):
                await bus.publish("shipmentCreated", {"shipmentId": i})
