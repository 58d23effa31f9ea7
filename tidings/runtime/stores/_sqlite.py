"""`SQLiteStore`: the embedded default, one file, standard library sqlite3 in a worker thread."""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import Any
from uuid import UUID

from tidings.runtime.stores._base import SCHEMA_VERSION, Outcome, StoreError
from tidings.runtime.stores._sql import Cursor, SqlStore, _Append, as_utc, browse_indexes

_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE messages (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            version INTEGER NOT NULL,
            payload TEXT NOT NULL,
            emitted_at TEXT NOT NULL,
            correlation_id TEXT NOT NULL,
            causation_id TEXT,
            producer TEXT
        )""",
        "CREATE INDEX messages_correlation_id ON messages (correlation_id)",
        """CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            message_id TEXT NOT NULL REFERENCES messages (id),
            subscriber TEXT NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at TEXT,
            owner TEXT,
            lease_until TEXT,
            updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
            UNIQUE (message_id, subscriber)
        )""",
        "CREATE INDEX deliveries_status ON deliveries (status, updated_at)",
    ),
    2: ("ALTER TABLE messages ADD COLUMN traceparent TEXT",),
}



_ROWS = 500
"""Rows per multi-row statement (at most 9 parameters a row: SQLite allows 32,766 since 3.32,
and fewer if built so: see `_rows`)."""


_RUNNING = "'running', 1"


@functools.cache
def _values(columns: int, rows: int, constants: str = "") -> str:
    row = "(" + ", ".join(["?"] * columns + ([constants] if constants else [])) + ")"
    return ", ".join([row] * rows)


_TEXT_TIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


def _text_time(value: datetime) -> str:
    """`value` as the text SQLite columns hold (UTC, `YYYY-MM-DD HH:MM:SS.ffffff`)."""
    if value.tzinfo is not UTC:
        value = as_utc(value)
    return _TEXT_TIME % (value.year, value.month, value.day, value.hour, value.minute,
                         value.second, value.microsecond)  # faster than isoformat / strftime


class SQLiteStore(SqlStore):
    """The event log in one SQLite file (WAL mode): one writer connection that group-commits in a
    worker thread, and a separate reader connection.

    `synchronous` is SQLite's PRAGMA: "NORMAL" (default) survives a process crash (the SIGKILL
    test), "FULL" also a power loss, at some speed. Several processes may share the file; each
    write waits up to `busy_timeout` seconds for the lock.

    `read_only=True` opens the file with SQLite's `mode=ro` (one reader connection, journal mode
    untouched): a missing file or one that holds no event log is a `StoreError` naming the fix.
    """

    def __init__(
        self, path: str | PathLike[str], *, synchronous: str = "NORMAL", busy_timeout: float = 5.0,
        read_only: bool = False,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.read_only = read_only
        if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, got {synchronous!r}")
        self.synchronous = synchronous.upper()
        self.busy_timeout = busy_timeout
        self._writer_conn: sqlite3.Connection | None = None
        self._rows = _ROWS
        self._reader_conn: sqlite3.Connection | None = None
        self._identity = (0, 0)

    def __str__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    def reader(self) -> SQLiteStore:
        return SQLiteStore(self.path, busy_timeout=self.busy_timeout, read_only=True)

    def _open_one(self) -> sqlite3.Connection:
        if self.read_only:
            uri = f"{self.path.absolute().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None,
                                   timeout=self.busy_timeout)
            conn.execute("PRAGMA query_only = ON")
            return conn
        conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=self.busy_timeout
        )
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _connect(self) -> None:
        if sqlite3.sqlite_version_info < (3, 35):
            raise StoreError(
                f"cannot open {self}: it needs SQLite 3.35 or newer (RETURNING, UPDATE FROM), and"
                f" this Python's sqlite3 has {sqlite3.sqlite_version}; use a newer Python build"
            )
        if not self.path.parent.is_dir():
            raise StoreError(
                f"cannot open {self}: the directory {str(self.path.parent)!r} does not exist; create it"
                " or pick another path"
            )
        if self.read_only and not self.path.is_file():
            raise StoreError(
                f"cannot open {self}: no such file; check the path, or create the event log with"
                " `tidings db upgrade`"
            )
        try:
            if not self.read_only:
                self._writer_conn = self._open_one()
            self._reader_conn = self._open_one()
            opened = os.stat(self.path)
            self._identity = (opened.st_dev, opened.st_ino)
            variables = self._reader_conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            self._rows = max(1, min(_ROWS, variables // 9))
        except sqlite3.Error as exc:
            self._disconnect()
            raise StoreError(f"cannot open {self}: {exc}") from exc

    def _disconnect(self) -> None:
        for conn in (self._writer_conn, self._reader_conn):
            if conn is not None:
                conn.close()
        self._writer_conn = self._reader_conn = None

    def _transaction(self, body: Callable[[Cursor], Any]) -> Any:
        self.refuse_write()
        conn = self._writer_conn
        if conn is None:
            raise StoreError(f"{self} is closed")
        self._check_file()
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            result = body(cur)
        except BaseException:
            conn.rollback()
            raise
        cur.execute("COMMIT")
        return result

    def _read(self, body: Callable[[Cursor], Any]) -> Any:
        conn = self._reader_conn
        if conn is None:
            raise StoreError(f"{self} is closed")
        self._check_file()
        return body(conn.cursor())

    def _is_row_error(self, exc: BaseException) -> bool:
        if isinstance(exc, StoreError):
            return False
        if isinstance(exc, sqlite3.Error):
            return isinstance(exc, (sqlite3.IntegrityError, sqlite3.DataError,
                                    sqlite3.InterfaceError, sqlite3.ProgrammingError))
        return True

    def _is_decode_error(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and "decode" in str(exc)

    def _check_file(self) -> None:
        """Fail when the file was deleted or replaced since it was opened: SQLite would go on
        writing into the unlinked inode (or the old one), and every write would be lost."""
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            raise StoreError(
                f"{self}: the database file {str(self.path)!r} was deleted while in use; nothing"
                " written since is stored: restore the file or restart with a new one"
            ) from None
        if (now.st_dev, now.st_ino) != self._identity:
            raise StoreError(
                f"{self}: the database file {str(self.path)!r} was replaced by another file"
                " while in use; restart to use the new file"
            )

    def _tables(self, cursor: Cursor) -> set[str]:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in cursor.fetchall()}

    def _upgrade(self, cursor: Cursor) -> int:
        cursor.execute("CREATE TABLE IF NOT EXISTS tidings_schema (version INTEGER NOT NULL)")
        row = cursor.execute("SELECT max(version) FROM tidings_schema").fetchone()
        current = row[0] or 0
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self} has schema version {current}, newer than this tidings ({SCHEMA_VERSION});"
                " upgrade tidings"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in _MIGRATIONS[version]:
                cursor.execute(statement)
            cursor.execute("INSERT INTO tidings_schema (version) VALUES (?)", (version,))
        browse_indexes(cursor)
        return SCHEMA_VERSION

    def _db_time(self, value: datetime | None) -> Any:
        return None if value is None else _text_time(value)

    def _py_time(self, value: Any) -> datetime | None:
        return None if value is None else as_utc(datetime.fromisoformat(value))

    def _db_uuid(self, value: UUID | None) -> Any:
        return None if value is None else str(value)

    def _insert(self, cur: Cursor, appends: list[_Append]) -> None:
        # One multi-row statement per table and chunk: sqlite3 releases the GIL once per
        # statement rather than once per row (the event loop shares that GIL).
        for start in range(0, len(appends), self._rows):
            chunk = appends[start:start + self._rows]
            messages: list[Any] = []
            deliveries: list[Any] = []
            for m, subscribers, owner, lease_until in chunk:
                mid = str(m.id)
                at = _text_time(m.emitted_at)
                messages += (
                    mid, m.name, m.version, m.payload, at,
                    mid if m.correlation_id == m.id else str(m.correlation_id),
                    None if m.causation_id is None else str(m.causation_id), m.producer,
                    m.traceparent,
                )
                if subscribers:
                    lease = _text_time(lease_until)
                    for subscriber in subscribers:
                        deliveries += (mid, subscriber, at, owner, lease)
            cur.execute(
                f"INSERT INTO messages (id, name, version, payload, emitted_at, correlation_id,"
                f" causation_id, producer, traceparent) VALUES {_values(9, len(chunk))}"
                " ON CONFLICT DO NOTHING",
                messages,
            )
            for first in range(0, len(deliveries), self._rows * 5):
                part = deliveries[first:first + self._rows * 5]
                cur.execute(
                    "INSERT INTO deliveries (message_id, subscriber, updated_at, owner, lease_until,"
                    f" status, attempts) VALUES {_values(5, len(part) // 5, _RUNNING)}"
                    " ON CONFLICT DO NOTHING",
                    part,
                )

    def _update(self, cur: Cursor, outcomes: list[Outcome]) -> None:
        for start in range(0, len(outcomes), self._rows):
            chunk = outcomes[start:start + self._rows]
            params: list[Any] = []
            for o in chunk:
                params += (
                    str(o.message_id), o.subscriber, o.status, o.attempts_delta, o.error,
                    None if o.next_attempt_at is None else _text_time(o.next_attempt_at), o.owner,
                    None if o.lease_until is None else _text_time(o.lease_until), _text_time(o.at),
                )
            cur.execute(
                "WITH v (message_id, subscriber, status, delta, error, next_attempt_at, owner,"
                f" lease_until, at) AS (VALUES {_values(9, len(chunk))})"
                " UPDATE deliveries SET status = v.status, attempts = attempts + v.delta,"
                " last_error = COALESCE(v.error, last_error), next_attempt_at = v.next_attempt_at,"
                " owner = v.owner, lease_until = v.lease_until, updated_at = v.at FROM v"
                " WHERE deliveries.message_id = v.message_id AND deliveries.subscriber = v.subscriber",
                params,
            )

    def _claim_rows(
        self, cur: Cursor, owner: str, subscribers: Sequence[str], now: datetime,
        lease_until: datetime, limit: int,
    ) -> list[tuple[Any, str, int, int]]:
        at = self._db_time(now)
        cur.execute(
            "UPDATE deliveries SET status = 'running', owner = ?, lease_until = ?,"
            " attempts = attempts + 1, updated_at = ? WHERE id IN (SELECT id FROM deliveries"
            f" WHERE subscriber IN ({', '.join('?' * len(subscribers))}) AND {self._due_clause()}"
            " ORDER BY id LIMIT ?) RETURNING message_id, subscriber, attempts, id",
            (owner, self._db_time(lease_until), at, *subscribers, at, at, owner, at, owner, limit),
        )
        return [tuple(r) for r in cur.fetchall()]
