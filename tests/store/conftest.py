"""One behavioural suite, three stores: memory, a real SQLite file, a real PostgreSQL schema."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_service
from tests.store.support import PG_DSN, Backend, _memory_admin, _pg_admin
from tidings.runtime.stores import MemoryStore, PostgresStore, SQLiteStore


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    kind = str(request.param)
    if kind == "memory":
        store = MemoryStore()
        yield Backend(kind, lambda: store, _memory_admin(store))
    elif kind == "sqlite":
        path = tmp_path / "events.db"

        def sqlite_admin(sql: str, params: tuple[Any, ...]) -> None:
            with sqlite3.connect(path) as conn:
                conn.execute(sql, params)

        yield Backend(kind, lambda: SQLiteStore(path), sqlite_admin)
    else:
        require_service("PostgreSQL", "127.0.0.1", 5432)
        import psycopg

        schema = f"test_{uuid.uuid4().hex[:12]}"
        yield Backend(kind, lambda: PostgresStore(PG_DSN, schema=schema), _pg_admin(schema))
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # type: ignore[arg-type]
