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

from tidings.runtime.stores._base import SCHEMA_VERSION
from tidings.runtime.stores._sql import Cursor, SqlStore, StoreError, as_utc, log

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
}

_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class PostgresStore(SqlStore):
    """The event log in PostgreSQL: tables `messages` and `deliveries` in `schema` (created if
    missing). Claims use `FOR UPDATE SKIP LOCKED`, so several bus processes share one database;
    a trigger NOTIFYs when a delivery becomes `pending` (a replay, or an admin's UPDATE), which
    wakes every listening bus at once. Install with the `postgres` extra.
    """

    notifies = True

    def __init__(self, dsn: str, *, schema: str = "public", pool_size: int = 4,
                 connect_timeout: float = 5.0, application_name: str = "tidings") -> None:
        super().__init__()
        if not _SCHEMA_NAME.fullmatch(schema):
            raise ValueError(f"schema must be a plain SQL identifier, got {schema!r}")
        self.dsn = dsn
        self.schema = schema
        self.pool_size = pool_size
        self.connect_timeout = connect_timeout
        self.application_name = application_name
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

    def _connect(self) -> None:
        psycopg, psycopg_pool = self._psycopg()
        try:
            with psycopg.connect(self.dsn, autocommit=True, connect_timeout=self.connect_timeout) as conn:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            self._pool = psycopg_pool.ConnectionPool(
                self.dsn, min_size=1, max_size=self.pool_size, open=False,
                kwargs={"options": f"-c search_path={self.schema}",
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
        if self._pool is None:
            raise StoreError(f"{self} is closed")
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            return body(cur)

    def _read(self, body: Callable[[Cursor], Any]) -> Any:
        return self._transaction(body)

    def _is_transient(self, exc: BaseException) -> bool:
        psycopg, psycopg_pool = self._psycopg()
        transient = (psycopg.OperationalError, psycopg_pool.PoolTimeout, psycopg.errors.SerializationFailure)
        return isinstance(exc, transient)

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
        return SCHEMA_VERSION

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s")

    payload_column = "payload::text"
    insert_message_sql = (
        "INSERT INTO messages (id, name, version, payload, emitted_at, correlation_id, causation_id,"
        " producer) VALUES (?, ?, ?, ?::jsonb, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
    )

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
            (list(subscribers), now, now, now, limit, owner, lease_until, now),
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
