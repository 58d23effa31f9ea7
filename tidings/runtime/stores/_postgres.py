"""`PostgresStore`: the event log in PostgreSQL (psycopg 3 and psycopg_pool, imported lazily).

psycopg's async API runs on asyncio only, and tidings runs on asyncio and trio, so this store
uses psycopg's blocking connections in worker threads, exactly as `SQLiteStore` uses sqlite3:
one writer group-commits, reads take a pooled connection, and a dedicated connection LISTENs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import anyio

from tidings.runtime.stores._base import SCHEMA_VERSION, Outcome, StoreError
from tidings.runtime.stores._sql import Cursor, SqlStore, _Append, as_utc, browse_indexes, log

CHANNEL = "tidings_deliveries"
"""The NOTIFY channel; the payload is the schema whose `deliveries` got a pending row."""

_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE messages (
            id uuid PRIMARY KEY,
            name text NOT NULL,
            version integer NOT NULL,
            payload jsonb NOT NULL,
            emitted_at timestamptz NOT NULL,
            correlation_id uuid NOT NULL,
            causation_id uuid,
            producer text
        )""",
        "CREATE INDEX messages_correlation_id ON messages (correlation_id)",
        """CREATE TABLE deliveries (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            message_id uuid NOT NULL REFERENCES messages (id),
            subscriber text NOT NULL,
            status text NOT NULL
                CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'dead')),
            attempts integer NOT NULL DEFAULT 0,
            last_error text,
            next_attempt_at timestamptz,
            owner text,
            lease_until timestamptz,
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (message_id, subscriber)
        )""",
        "CREATE INDEX deliveries_status ON deliveries (status, updated_at)",
        f"""CREATE FUNCTION tidings_notify_pending() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_SCHEMA);
            RETURN NULL;
        END $$""",
        "CREATE TRIGGER deliveries_pending AFTER INSERT OR UPDATE OF status ON deliveries"
        " FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION tidings_notify_pending()",
    ),
    2: ("ALTER TABLE messages ADD COLUMN traceparent text",),
}


def _plain(values: Sequence[object]) -> str:
    """A PostgreSQL array literal of values whose text needs no quoting (uuids, numbers, words)."""
    return "{" + ",".join(["NULL" if v is None else str(v) for v in values]) + "}"


def _quoted(values: Sequence[str | None]) -> str:
    """A PostgreSQL array literal of arbitrary strings."""
    return "{" + ",".join([
        "NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        for v in values
    ]) + "}"


def _times(values: Sequence[datetime | None]) -> str:
    """A PostgreSQL array literal of timestamps (ISO 8601, UTC; naive values are taken as UTC)."""
    return "{" + ",".join(["NULL" if v is None else as_utc(v).isoformat() for v in values]) + "}"


_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class PostgresStore(SqlStore):
    """The event log in PostgreSQL: tables `messages` and `deliveries` in `schema` (created if
    missing). Claims use `FOR UPDATE SKIP LOCKED`, so several bus processes share one database;
    a trigger NOTIFYs when a delivery becomes `pending` (a replay, or an admin's UPDATE), which
    wakes every listening bus at once. Each statement waits up to `lock_timeout` seconds for a
    lock another session holds (then the write is retried for `retry_for`, as a lost
    connection is). An operation waiting more than `connection_wait_warning` seconds (2) for a
    connection logs a WARNING, and another when it got one. Install with the `postgres` extra.

    `read_only=True` runs no DDL (not even CREATE SCHEMA) and reads in read-only transactions
    (`default_transaction_read_only`): a missing schema or one without an event log is a
    `StoreError` naming the fix.
    """

    notifies = True

    def __init__(self, dsn: str, *, schema: str = "public", pool_size: int = 4,
                 connect_timeout: float = 5.0, application_name: str = "tidings",
                 read_only: bool = False, lock_timeout: float = 5.0) -> None:
        super().__init__()
        if not _SCHEMA_NAME.fullmatch(schema):
            raise ValueError(f"schema must be a plain SQL identifier, got {schema!r}")
        self.read_only = read_only
        self.dsn = dsn
        self.schema = schema
        self.pool_size = pool_size
        self.connect_timeout = connect_timeout
        self.application_name = application_name
        self.lock_timeout = lock_timeout
        self.connection_wait_warning = 2.0
        """Seconds a store operation may wait for a connection (the pool reconnecting after
        lost connections, or all of them busy) before a WARNING says so."""
        self._pool: Any = None
        self._listener: Any = None
        self._listen_limiter = anyio.CapacityLimiter(1)

    def __str__(self) -> str:
        return f"PostgresStore(schema={self.schema!r})"

    def _psycopg(self) -> Any:
        try:
            import psycopg
            import psycopg_pool
        except ImportError as exc:
            raise StoreError(
                "PostgresStore needs psycopg and psycopg_pool: pip install 'tidings[postgres]'"
            ) from exc
        return psycopg, psycopg_pool

    def reader(self) -> PostgresStore:
        return PostgresStore(self.dsn, schema=self.schema, connect_timeout=self.connect_timeout,
                             application_name=self.application_name, pool_size=1, read_only=True)

    def _connect(self) -> None:
        psycopg, psycopg_pool = self._psycopg()
        options = (f"-c search_path={self.schema}"
                   f" -c lock_timeout={max(1, round(self.lock_timeout * 1000))}")
        if self.read_only:
            options += " -c default_transaction_read_only=on"
        try:
            if not self.read_only:
                with psycopg.connect(self.dsn, autocommit=True,
                                     connect_timeout=self.connect_timeout) as conn:
                    conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            self._pool = psycopg_pool.ConnectionPool(
                self.dsn, min_size=1, max_size=self.pool_size, open=False,
                kwargs={"options": options,
                        "connect_timeout": self.connect_timeout,
                        "application_name": self.application_name},
                check=psycopg_pool.ConnectionPool.check_connection,
            )
            self._pool.open(wait=True, timeout=self.connect_timeout)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            self._disconnect()
            raise StoreError(f"cannot open {self}: {str(exc).strip()}") from exc

    def _disconnect(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _transaction(self, body: Callable[[Cursor], Any]) -> Any:
        self.refuse_write()
        return self._read(body)

    def _read(self, body: Callable[[Cursor], Any]) -> Any:
        pool = self._pool
        if pool is None:
            raise StoreError(f"{self} is closed")
        conn = self._getconn(pool)
        try:
            with conn, conn.transaction(), conn.cursor() as cur:  # as pool.connection() does
                return body(cur)
        finally:
            pool.putconn(conn)

    def _getconn(self, pool: Any) -> Any:
        # A connection from the pool; a wait longer than `connection_wait_warning` (the pool
        # reconnecting after lost connections, backing off 1, 2, 4 s between broken ones, or
        # every connection busy) is logged when it passes and again when it ends.
        try:
            return pool.getconn(timeout=self.connection_wait_warning)
        except self._psycopg()[1].PoolTimeout:
            pass
        started = time.monotonic() - self.connection_wait_warning
        stats = pool.get_stats()
        log.warning("%s: waited %.1fs for a database connection, still waiting (up to %.0fs;"
                    " %d of %d connections open, %d requests waiting): the pool is reconnecting"
                    " or every connection is busy", self, self.connection_wait_warning,
                    pool.timeout, stats.get("pool_size", 0), pool.max_size,
                    stats.get("requests_waiting", 0))
        try:
            conn = pool.getconn(timeout=max(0.001, pool.timeout - self.connection_wait_warning))
        except Exception:
            log.warning("%s: gave up waiting for a database connection after %.1fs", self,
                        time.monotonic() - started)
            raise
        log.warning("%s: waited %.1fs for a database connection", self, time.monotonic() - started)
        return conn

    def _tables(self, cursor: Cursor) -> set[str]:
        cursor.execute("SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = %s",
                       (self.schema,))
        return {row[0] for row in cursor.fetchall()}

    def _uuid_text(self, column: str) -> str:
        return f"{column}::text"

    def _is_row_error(self, exc: BaseException) -> bool:
        psycopg, psycopg_pool = self._psycopg()
        if isinstance(exc, (StoreError, psycopg_pool.PoolTimeout)):
            return False
        if isinstance(exc, psycopg.Error):
            return isinstance(exc, (psycopg.DataError, psycopg.IntegrityError,
                                    psycopg.ProgrammingError, psycopg.NotSupportedError))
        return True

    def _upgrade(self, cursor: Cursor) -> int:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('tidings_schema'))")
        cursor.execute("CREATE TABLE IF NOT EXISTS tidings_schema (version integer NOT NULL)")
        cursor.execute("SELECT max(version) FROM tidings_schema")
        current = cursor.fetchone()[0] or 0
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self} has schema version {current}, newer than this tidings ({SCHEMA_VERSION});"
                " upgrade tidings"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in _MIGRATIONS[version]:
                cursor.execute(statement)
            cursor.execute("INSERT INTO tidings_schema (version) VALUES (%s)", (version,))
        browse_indexes(cursor)
        return SCHEMA_VERSION

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s")

    payload_column = "payload::text"

    # Rows travel as array literals (text) unnested by the server: one statement per table
    # whatever the group's size, and much less client work than adapting Python lists.

    def _insert(self, cur: Cursor, appends: list[_Append]) -> None:
        messages = [a[0] for a in appends]
        cur.execute(
            "INSERT INTO messages (id, name, version, payload, emitted_at, correlation_id,"
            " causation_id, producer, traceparent) SELECT id, name, version, payload::jsonb,"
            " emitted_at, correlation_id, causation_id, producer, traceparent FROM unnest(%s::uuid[],"
            " %s::text[], %s::integer[], %s::text[], %s::timestamptz[], %s::uuid[], %s::uuid[],"
            " %s::text[], %s::text[]) AS m (id, name, version, payload, emitted_at, correlation_id,"
            " causation_id, producer, traceparent) ON CONFLICT DO NOTHING",
            (
                _plain([m.id for m in messages]), _quoted([m.name for m in messages]),
                _plain([m.version for m in messages]), _quoted([m.payload for m in messages]),
                _times([m.emitted_at for m in messages]),
                _plain([m.correlation_id for m in messages]),
                _plain([m.causation_id for m in messages]), _quoted([m.producer for m in messages]),
                _quoted([m.traceparent for m in messages]),
            ),
        )
        rows = [(m, subscriber, owner, lease) for m, subs, owner, lease in appends for subscriber in subs]
        if rows:
            cur.execute(
                "INSERT INTO deliveries (message_id, subscriber, status, attempts, updated_at,"
                " owner, lease_until) SELECT message_id, subscriber, 'running', 1, at, owner,"
                " lease_until FROM unnest(%s::uuid[], %s::text[], %s::timestamptz[], %s::text[],"
                " %s::timestamptz[]) AS d (message_id, subscriber, at, owner, lease_until)"
                " ON CONFLICT DO NOTHING",
                (
                    _plain([r[0].id for r in rows]), _quoted([r[1] for r in rows]),
                    _times([r[0].emitted_at for r in rows]), _quoted([r[2] for r in rows]),
                    _times([r[3] for r in rows]),
                ),
            )

    def _update(self, cur: Cursor, outcomes: list[Outcome]) -> None:
        ids = _plain([o.message_id for o in outcomes])
        # Without statistics (a young or fast-growing table) the planner would scan the whole
        # table for the join: make it find each row by the (message_id, subscriber) index.
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute(
            "UPDATE deliveries d SET status = o.status, attempts = d.attempts + o.delta,"
            " last_error = COALESCE(o.error, d.last_error), next_attempt_at = o.next_attempt_at,"
            " owner = o.owner, lease_until = o.lease_until, updated_at = o.at"
            " FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::integer[], %s::text[],"
            " %s::timestamptz[], %s::text[], %s::timestamptz[], %s::timestamptz[])"
            " AS o (message_id, subscriber, status, delta, error, next_attempt_at, owner,"
            " lease_until, at) WHERE d.message_id = ANY(%s::uuid[])"  # find them by index
            " AND d.message_id = o.message_id AND d.subscriber = o.subscriber",
            (
                ids, _quoted([o.subscriber for o in outcomes]),
                _plain([o.status for o in outcomes]), _plain([o.attempts_delta for o in outcomes]),
                _quoted([o.error for o in outcomes]), _times([o.next_attempt_at for o in outcomes]),
                _quoted([o.owner for o in outcomes]), _times([o.lease_until for o in outcomes]),
                _times([o.at for o in outcomes]), ids,
            ),
        )
        cur.execute("SET LOCAL enable_seqscan TO DEFAULT")

    def _db_time(self, value: datetime | None) -> Any:
        return value

    def _py_time(self, value: Any) -> datetime | None:
        return None if value is None else as_utc(value)

    def _db_uuid(self, value: UUID | None) -> Any:
        return value

    def _claim_rows(
        self, cur: Cursor, owner: str, subscribers: Sequence[str], now: datetime,
        lease_until: datetime, limit: int,
    ) -> list[tuple[Any, str, int, int]]:
        cur.execute(
            "WITH due AS (SELECT id FROM deliveries WHERE subscriber = ANY(%s) AND "
            + self._sql(self._due_clause())
            + " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)"
            " UPDATE deliveries d SET status = 'running', owner = %s, lease_until = %s,"
            " attempts = d.attempts + 1, updated_at = %s FROM due WHERE d.id = due.id"
            " RETURNING d.message_id, d.subscriber, d.attempts, d.id",
            (list(subscribers), now, now, owner, now, owner, limit, owner, lease_until, now),
        )
        return [tuple(r) for r in cur.fetchall()]

    # -- LISTEN/NOTIFY --------------------------------------------------------------------------

    def _listen(self, timeout: float) -> bool:
        psycopg, _ = self._psycopg()
        try:
            if self._listener is None:
                self._listener = psycopg.connect(
                    self.dsn, autocommit=True, connect_timeout=self.connect_timeout,
                    application_name=self.application_name,
                )
                self._listener.execute(f"LISTEN {CHANNEL}")
            return any(
                note.payload == self.schema
                for note in self._listener.notifies(timeout=timeout, stop_after=1)
            )
        except psycopg.Error as exc:
            log.warning("%s: LISTEN connection lost (%s); reconnecting", self, exc)
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            time.sleep(timeout)
            return False

    async def wait_signal(self, timeout: float) -> bool:
        heard: bool = await anyio.to_thread.run_sync(
            self._listen, timeout, limiter=self._listen_limiter
        )
        return heard
