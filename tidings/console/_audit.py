"""`console_actions`: who replayed what, when, and what came of it (one row per replay)."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tidings.runtime.stores import PostgresStore, SQLiteStore, Store, StoreError

_TABLE = {
    "sqlite": """CREATE TABLE IF NOT EXISTS console_actions (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        selection TEXT NOT NULL,
        rows INTEGER NOT NULL,
        outcome TEXT
    )""",
    "postgres": """CREATE TABLE IF NOT EXISTS console_actions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        selection jsonb NOT NULL,
        rows integer NOT NULL,
        outcome text
    )""",
}


@dataclass(frozen=True, slots=True)
class Action:
    """A row of `console_actions`."""

    id: int
    at: datetime
    actor: str
    action: str
    selection: dict[str, Any]
    rows: int
    outcome: str | None


class AuditLog:
    """The `console_actions` table of one log, on a connection of its own (thread-safe; blocking)."""

    def __init__(self, connection: Any, dialect: str) -> None:
        self._conn = connection
        self._dialect = dialect
        self._lock = threading.Lock()
        self._execute(_TABLE[dialect])

    @classmethod
    def for_store(cls, store: Store) -> AuditLog:
        """The audit table in the log `store` keeps, created when missing."""
        if isinstance(store, SQLiteStore):
            return cls(sqlite3.connect(store.path, check_same_thread=False, isolation_level=None,
                                       timeout=store.busy_timeout), "sqlite")
        if isinstance(store, PostgresStore):
            import psycopg

            return cls(psycopg.connect(store.dsn, autocommit=True,
                                       connect_timeout=round(store.connect_timeout),
                                       options=f"-c search_path={store.schema}",
                                       application_name="tidings-console"), "postgres")
        raise StoreError(f"{type(store).__name__} has no console_actions table")

    def _execute(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self._dialect == "postgres":
            sql = sql.replace("?", "%s")
        with self._lock:
            cur = self._conn.execute(sql, params)
            return [tuple(r) for r in cur.fetchall()] if cur.description else []

    def record(self, actor: str, action: str, selection: dict[str, Any], rows: int) -> int:
        """Store a replay about to run; return its id (for `finish`)."""
        found = self._execute(
            "INSERT INTO console_actions (at, actor, action, selection, rows) VALUES (?, ?, ?, ?, ?)"
            " RETURNING id",
            (datetime.now(UTC).isoformat(), actor, action, json.dumps(selection), rows),
        )
        return int(found[0][0])

    def finish(self, action_id: int, outcome: str) -> None:
        """Store what came of the replay `action_id`."""
        self._execute("UPDATE console_actions SET outcome = ? WHERE id = ?", (outcome, action_id))

    def recent(self, limit: int = 100) -> list[Action]:
        """The last `limit` actions, newest first."""
        rows = self._execute(
            "SELECT id, at, actor, action, selection, rows, outcome FROM console_actions"
            " ORDER BY id DESC LIMIT ?", (limit,),
        )
        return [
            Action(int(r[0]), r[1] if isinstance(r[1], datetime) else datetime.fromisoformat(r[1]),
                   r[2], r[3], r[4] if isinstance(r[4], dict) else json.loads(r[4]), int(r[5]), r[6])
            for r in rows
        ]

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
