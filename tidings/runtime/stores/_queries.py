"""`LogReader`: the read side of an event log for browsing tools (the console, scripts).

It opens its own connection, read-only (an SQLite file opened with `mode=ro`, a PostgreSQL
session with `default_transaction_read_only`), so browsing never creates, migrates or locks the
log, and never shares the connections of a store's group-committing writer. Every method blocks:
call it from a worker thread (`anyio.to_thread.run_sync`).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from tidings.runtime.stores._base import (
    STATUSES,
    Delivery,
    LogEntry,
    Status,
    Store,
    StoredMessage,
    StoreError,
)
from tidings.runtime.stores._postgres import PostgresStore
from tidings.runtime.stores._sql import as_utc, reset_where
from tidings.runtime.stores._sqlite import SQLiteStore


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """Which messages a list shows; every field given must hold (None: any).

    `status` / `subscriber` keep messages having a delivery in that status / to that subscriber
    (the same delivery when both are given); `text` is a case-insensitive substring of the
    payload's JSON text; `since` / `until` bound `emitted_at` (inclusive / exclusive)."""

    name: str | None = None
    status: Status | None = None
    subscriber: str | None = None
    producer: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    correlation_id: UUID | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """A `failed` or `dead` delivery, with its message's name and the type of its last error."""

    delivery: Delivery
    name: str
    error_type: str


_ERROR_LINE = re.compile(r"([A-Za-z_][\w.]*)(?:: .*)?")
_BARE_TYPES = ("Error", "Exception", "Exit", "Interrupt", "Timeout", "Cancelled", "Group")


def error_type(last_error: str | None) -> str:
    """The exception type a stored traceback ends with (`ValueError`), or "error" when the text
    names none (a message the bus wrote itself, such as a validation failure)."""
    for line in reversed((last_error or "").splitlines()):
        match = _ERROR_LINE.fullmatch(line.rstrip())
        if match and (": " in line or match[1].endswith(_BARE_TYPES)):
            return match[1].rsplit(".", 1)[-1]
    return "error"


_DELIVERY_COLUMNS = (
    "message_id, subscriber, status, attempts, last_error, next_attempt_at, owner, lease_until,"
    " updated_at"
)


class LogReader:
    """Read-only queries over one event log (SQLite file or PostgreSQL schema). Build one with
    `LogReader.for_store(store)`; `close()` when done. Thread-safe (one connection, one lock)."""

    def __init__(self, connection: Any, *, placeholder: str, payload: str, like: str,
                 text_times: bool, label: str) -> None:
        self._conn = connection
        self._lock = threading.Lock()
        self._ph = placeholder
        self._payload = payload
        self._like = like
        self._text_times = text_times
        self.label = label
        """A short name of the log for people (the file path, or the schema)."""

    @classmethod
    def for_store(cls, store: Store) -> LogReader:
        """A reader on the log `store` keeps (an `SQLiteStore` or `PostgresStore`; the store
        itself need not be open). Raises `StoreError` when the log does not exist or is not a
        tidings event log."""
        if isinstance(store, SQLiteStore):
            return cls._sqlite(store)
        if isinstance(store, PostgresStore):
            return cls._postgres(store)
        raise StoreError(f"{type(store).__name__} cannot be browsed: use an SQLite or PostgreSQL log")

    @classmethod
    def _sqlite(cls, store: SQLiteStore) -> LogReader:
        if not store.path.is_file():
            raise StoreError(f"{store}: no such file; check the path (`tidings db upgrade` creates a log)")
        try:
            conn = sqlite3.connect(f"{store.path.resolve().as_uri()}?mode=ro", uri=True,
                                   check_same_thread=False, isolation_level=None)
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.Error as exc:
            raise StoreError(f"{store}: cannot read it ({exc})") from exc
        reader = cls(conn, placeholder="?", payload="payload", like="LIKE", text_times=True,
                     label=str(store.path))
        reader._require(tables, str(store))
        return reader

    @classmethod
    def _postgres(cls, store: PostgresStore) -> LogReader:
        try:
            import psycopg
        except ImportError as exc:
            raise StoreError(
                "reading a PostgreSQL log needs psycopg: pip install 'tidings[postgres]'"
            ) from exc
        try:
            conn = psycopg.connect(
                store.dsn, autocommit=True, connect_timeout=round(store.connect_timeout),
                options=f"-c search_path={store.schema} -c default_transaction_read_only=on",
                application_name="tidings-reader",
            )
            tables = {r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (store.schema,),
            )}
        except psycopg.Error as exc:
            raise StoreError(f"{store}: cannot read it ({str(exc).strip()})") from exc
        reader = cls(conn, placeholder="%s", payload="payload::text", like="ILIKE", text_times=False,
                     label=f"{store.schema}")
        reader._require(tables, str(store))
        return reader

    def _require(self, tables: set[str], name: str) -> None:
        if not {"messages", "deliveries", "tidings_schema"} <= tables:
            self.close()
            raise StoreError(f"{name} is not a tidings event log; run `tidings db upgrade` to create one")

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    # -- helpers ---------------------------------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            cur = self._conn.execute(sql.replace("?", self._ph), list(params))
            return [tuple(r) for r in cur.fetchall()]

    def _id(self, value: UUID) -> Any:
        return str(value) if self._text_times else value

    def _time_param(self, value: datetime) -> Any:
        if not self._text_times:
            return value
        v = as_utc(value)
        return f"{v:%Y-%m-%d %H:%M:%S}.{v.microsecond:06d}"

    def _time(self, value: Any) -> datetime | None:
        if value is None:
            return None
        return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)

    @staticmethod
    def _uuid(value: Any) -> UUID:
        return value if isinstance(value, UUID) else UUID(str(value))

    def _message(self, row: Sequence[Any]) -> StoredMessage:
        emitted = self._time(row[4])
        assert emitted is not None
        return StoredMessage(
            self._uuid(row[0]), row[1], row[2], row[3], emitted, self._uuid(row[5]),
            None if row[6] is None else self._uuid(row[6]), row[7],
        )

    def _delivery(self, row: Sequence[Any], message_id: UUID | None = None) -> Delivery:
        updated = self._time(row[8])
        assert updated is not None
        status: Status = row[2] if row[2] in STATUSES else "pending"
        return Delivery(message_id or self._uuid(row[0]), row[1], status, row[3], row[4],
                        self._time(row[5]), row[6], self._time(row[7]), updated)

    def _message_columns(self, alias: str = "") -> str:
        p = f"{alias}." if alias else ""
        payload = f"{p}{self._payload}" if alias else self._payload
        return (f"{p}id, {p}name, {p}version, {payload}, {p}emitted_at, {p}correlation_id,"
                f" {p}causation_id, {p}producer")

    def _entries(self, messages: list[StoredMessage]) -> list[LogEntry]:
        rows: dict[UUID, list[Delivery]] = {m.id: [] for m in messages}
        known = {self._id(m.id): m.id for m in messages}  # parse each id once, not per delivery
        ids = list(known)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for r in self._rows(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE message_id IN"
                f" ({', '.join('?' * len(chunk))}) ORDER BY id", chunk,
            ):
                delivery = self._delivery(r, known.get(r[0]))
                rows[delivery.message_id].append(delivery)
        return [LogEntry(m, tuple(rows[m.id])) for m in messages]

    # -- queries ---------------------------------------------------------------------------------

    def messages(self, where: MessageFilter = MessageFilter(), *, before: UUID | None = None,
                 limit: int = 50) -> list[LogEntry]:
        """Messages matching `where`, newest first (by id: ids are time-ordered UUIDv7), those
        older than the message `before` only (keyset paging), at most `limit`, with deliveries."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("m.name", where.name), ("m.producer", where.producer)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if where.correlation_id is not None:
            clauses.append("m.correlation_id = ?")
            params.append(self._id(where.correlation_id))
        if where.since is not None:
            clauses.append("m.emitted_at >= ?")
            params.append(self._time_param(where.since))
        if where.until is not None:
            clauses.append("m.emitted_at < ?")
            params.append(self._time_param(where.until))
        if where.text:
            escaped = where.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            if self._like == "LIKE":
                clauses.append(f"lower(m.{self._payload}) LIKE ? ESCAPE '\\'")
                params.append(f"%{escaped.lower()}%")
            else:
                clauses.append(f"m.{self._payload} ILIKE ? ESCAPE '\\'")
                params.append(f"%{escaped}%")
        if where.status is None and where.subscriber is None:
            if before is not None:
                clauses.append("m.id < ?")
                params.append(self._id(before))
            clause = f" WHERE {' AND '.join(clauses)}" if clauses else ""
            rows = self._rows(
                f"SELECT {self._message_columns('m')} FROM messages m{clause} ORDER BY m.id DESC LIMIT ?",
                [*params, limit],
            )
            return self._entries([self._message(r) for r in rows])
        return self._entries(self._by_delivery(where, clauses, params, before, limit))

    def _by_delivery(self, where: MessageFilter, clauses: list[str], params: list[Any],
                     before: UUID | None, limit: int) -> list[StoredMessage]:
        # Walk the deliveries index ((status | subscriber), message_id) newest first, joined to
        # the message: a page of a rare status (dead letters) does not scan every message, and
        # a page of a common one stops after `limit`. A message with several matching
        # deliveries comes up more than once: keep the first, read on until the page is full.
        delivery: list[str] = []
        delivery_params: list[Any] = []
        if where.status is not None:
            delivery.append("d.status = ?")
            delivery_params.append(where.status)
        if where.subscriber is not None:
            delivery.append("d.subscriber = ?")
            delivery_params.append(where.subscriber)
        found: dict[UUID, StoredMessage] = {}
        batch = limit * 2
        while len(found) < limit:
            keyset = [] if before is None else ["d.message_id < ?"]
            sql = (
                f"SELECT {self._message_columns('m')} FROM deliveries d JOIN messages m ON m.id ="
                f" d.message_id WHERE {' AND '.join([*delivery, *keyset, *clauses])}"
                " ORDER BY d.message_id DESC LIMIT ?"
            )
            rows = self._rows(sql, [*delivery_params, *([] if before is None else [self._id(before)]),
                                    *params, batch])
            for r in rows:
                message = self._message(r)
                found.setdefault(message.id, message)
                before = message.id
            if len(rows) < batch:
                break
        return list(found.values())[:limit]

    def counts(self) -> dict[Status, int]:
        """How many deliveries the log holds in each status (every status, zeros included).

        Exact for every status but `succeeded`, which is the table's size less the others (an
        index range each): the size is the span of row ids on SQLite (exact while no row was
        deleted), the planner's estimate on PostgreSQL (close after autovacuum). Counting the
        succeeded rows exactly reads every row: seconds on a log of millions."""
        found = dict.fromkeys(STATUSES, 0)
        for status in STATUSES:
            if status != "succeeded":
                found[status] = int(self._rows("SELECT count(*) FROM deliveries WHERE status = ?",
                                               [status])[0][0])
        if self._text_times:
            total = int(self._rows(  # two subqueries: each is one step down the index
                "SELECT coalesce((SELECT max(id) FROM deliveries) - (SELECT min(id) FROM deliveries)"
                " + 1, 0)")[0][0])
        else:
            total = int(self._rows("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid ="
                                   " 'deliveries'::regclass")[0][0])
        if total < 100_000:  # cheap enough to count exactly (and estimates of small tables are poor)
            total = int(self._rows("SELECT count(*) FROM deliveries")[0][0])
        found["succeeded"] = max(0, total - sum(found.values()))
        return found

    def entry(self, message_id: UUID) -> LogEntry | None:
        """One message with its deliveries, or None."""
        rows = self._rows(f"SELECT {self._message_columns()} FROM messages WHERE id = ?",
                          [self._id(message_id)])
        return self._entries([self._message(rows[0])])[0] if rows else None

    def find(self, suffix: str, limit: int = 5) -> list[UUID]:
        """Ids of messages ending with `suffix` (hex digits as printed, at least 8), at most `limit`."""
        if not re.fullmatch(r"[0-9a-fA-F-]{8,36}", suffix):
            return []
        column = "id" if self._text_times else "id::text"
        return [self._uuid(r[0]) for r in self._rows(
            f"SELECT id FROM messages WHERE {column} LIKE ? LIMIT ?", [f"%{suffix.lower()}", limit],
        )]

    def thread(self, correlation_id: UUID, limit: int = 5000) -> list[LogEntry]:
        """Every message sharing `correlation_id` (at most `limit`), oldest first, with deliveries."""
        rows = self._rows(
            f"SELECT {self._message_columns()} FROM messages WHERE correlation_id = ? ORDER BY id LIMIT ?",
            [self._id(correlation_id), limit],
        )
        return self._entries([self._message(r) for r in rows])

    def deliveries(self, keys: Sequence[tuple[UUID, str]]) -> list[Delivery]:
        """The current rows of these deliveries (those that exist)."""
        found: list[Delivery] = []
        for start in range(0, len(keys), 400):
            chunk = keys[start:start + 400]
            clause = " OR ".join(["(message_id = ? AND subscriber = ?)"] * len(chunk))
            found.extend(self._delivery(r) for r in self._rows(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE {clause}",
                [v for m, s in chunk for v in (self._id(m), s)],
            ))
        return found

    def problems(self, *, subscriber: str | None = None, status: Status | None = None,
                 limit: int = 2000) -> list[Problem]:
        """`failed` and `dead` deliveries (or those of `status`), newest failure first, at most
        `limit`, with the message name and error type (group them by subscriber and type)."""
        statuses = [status] if status is not None else ["failed", "dead"]
        clauses = [f"d.status IN ({', '.join('?' * len(statuses))})"]
        params: list[Any] = [*statuses]
        if subscriber is not None:
            clauses.append("d.subscriber = ?")
            params.append(subscriber)
        columns = ", ".join(f"d.{c.strip()}" for c in _DELIVERY_COLUMNS.split(","))
        rows = self._rows(
            f"SELECT {columns}, m.name FROM deliveries d JOIN messages m ON m.id = d.message_id"
            f" WHERE {' AND '.join(clauses)} ORDER BY d.updated_at DESC LIMIT ?", [*params, limit],
        )
        return [Problem(self._delivery(r), r[9], error_type(r[4])) for r in rows]

    def resettable(self, *, message_id: UUID | None = None, subscriber: str | None = None,
                   statuses: Sequence[Status] | None = None,
                   keys: Sequence[tuple[UUID, str]] | None = None) -> int:
        """How many deliveries `Store.reset` with these arguments (or these `keys`) would change:
        the matching ones that are not `running`."""
        if keys is not None:
            return sum(d.status != "running" for d in self.deliveries(keys))
        clauses, params = reset_where(None if message_id is None else self._id(message_id),
                                      subscriber, statuses, None, None)
        return int(self._rows(f"SELECT count(*) FROM deliveries WHERE {' AND '.join(clauses)}", params)[0][0])

    def latest(self) -> tuple[UUID | None, datetime | None]:
        """The newest message id and the newest delivery change: what a live view polls."""
        top = self._rows("SELECT max(id) FROM messages")[0][0]
        changed = self._rows("SELECT max(updated_at) FROM deliveries")[0][0]
        return (None if top is None else self._uuid(top)), self._time(changed)
