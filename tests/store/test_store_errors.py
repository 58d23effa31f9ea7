"""Stores that cannot be opened say why; a PostgreSQL connection that drops loses nothing."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.conftest import require_service
from tests.store.support import CATALOG, PG_DSN, terminate_connections
from tidings.runtime import EventBus, Message
from tidings.runtime.stores import PostgresStore, SQLiteStore, StoreError, open_store

pytestmark = pytest.mark.anyio


async def test_a_sqlite_file_in_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    bus = EventBus(CATALOG, store=SQLiteStore(tmp_path / "nope" / "events.db"))
    with pytest.raises(StoreError, match=r"directory .*nope.* does not exist"):
        async with bus:
            pass
    assert not bus.started  # the bus did not stay half-started


async def test_an_sqlite_library_too_old_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.31.1")
    with pytest.raises(StoreError, match=r"needs SQLite 3\.35 or newer .* has 3\.31\.1"):
        async with SQLiteStore(tmp_path / "events.db"):
            pass


async def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    path.write_text("this is not SQLite " * 100)
    with pytest.raises(StoreError, match="cannot open SQLiteStore"):
        async with SQLiteStore(path):
            pass


async def test_an_unreachable_postgres_is_a_clear_error() -> None:
    store = PostgresStore("postgresql://postgres@127.0.0.1:1/test", connect_timeout=1)
    with pytest.raises(StoreError, match="cannot open PostgresStore"):
        async with store:
            pass


def test_store_urls() -> None:
    assert isinstance(open_store("events.db"), SQLiteStore)
    assert str(open_store("sqlite:///var/x.db")) == "SQLiteStore('var/x.db')"
    pg = open_store("postgresql://u@h/db?schema=log&sslmode=disable")
    assert isinstance(pg, PostgresStore) and pg.schema == "log" and pg.dsn == "postgresql://u@h/db?sslmode=disable"
    with pytest.raises(StoreError, match="unknown store URL"):
        open_store("mysql://x")


async def test_postgres_going_away_and_coming_back_loses_no_message() -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    import psycopg

    schema = f"gone_{uuid.uuid4().hex[:12]}"
    app = f"tidings-{schema}"
    store = PostgresStore(PG_DSN, schema=schema, application_name=app)
    bus = EventBus(CATALOG, store=store, poll_interval=0.05)
    ran: Counter[int] = Counter()

    async def handler(message: Message[Any]) -> None:
        await anyio.sleep(0)
        ran[message.data.shipment_id] += 1

    bus.on("shipmentCreated", handler, name="email", mode="async")
    try:
        cuts = 0

        async def cutter() -> None:
            nonlocal cuts
            for _ in range(5):
                await anyio.sleep(0.1)
                cuts += await anyio.to_thread.run_sync(terminate_connections, app)

        async with bus:
            async with anyio.create_task_group() as tg:
                tg.start_soon(cutter)
                for i in range(200):
                    await bus.emit("shipmentCreated", {"shipmentId": i})
                    if i % 5 == 0:
                        await anyio.sleep(0.01)
            await bus.drain()
        assert cuts > 3
        async with PostgresStore(PG_DSN, schema=schema) as check:
            entries = await check.log(limit=1000)
        assert len(entries) == 200
        assert Counter(d.status for e in entries for d in e.deliveries) == Counter(succeeded=200)
        assert set(ran) == set(range(200))
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # type: ignore[arg-type]
