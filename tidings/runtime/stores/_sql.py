"""What the SQL stores share: one writer that group-commits in a worker thread, and the queries.

Every write goes through one writer task: it takes everything queued (message appends, delivery
outcomes, claims...) and commits it in ONE transaction in a worker thread, while new work queues
for the next group. A lost connection is retried (the batch is idempotent) until `retry_for`.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import anyio
from anyio.abc import TaskGroup

from tidings.runtime.stores._base import (
    OPEN,
    RELAY_PREFIX,
    SCHEMA_VERSION,
    STATUSES,
    Claim,
    Delivery,
    LogEntry,
    Outcome,
    Status,
    Store,
    StoredMessage,
    StoreError,
    StoreStats,
)

log = logging.getLogger("tidings.store")

Cursor = Any
Connection = Any
Call = Callable[[Cursor], Any]


class _Op:
    __slots__ = ("done", "error", "fn", "idempotent", "result")

    def __init__(self, fn: Call | None = None, idempotent: bool = True) -> None:
        self.fn = fn
        self.idempotent = idempotent
        self.done = anyio.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    async def wait(self) -> Any:
        await self.done.wait()
        if self.error is not None:
            raise self.error
        return self.result


class _Group:
    """The appends of one group commit: they share one event, each has its own error slot."""

    __slots__ = ("done", "errors")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.errors: dict[int, BaseException] = {}


_Append = tuple[StoredMessage, Sequence[str], str, datetime]


def _keys_clause(keys: Sequence[tuple[UUID, str]]) -> str:
    return " OR ".join(["(message_id = ? AND subscriber = ?)"] * len(keys))


_TABLES = frozenset({"messages", "deliveries"})
UPGRADE_HINT = "create or migrate it with `tidings db upgrade`"
"""The fix named when a read-only store finds no (or an old) event log."""


class SqlStore(Store):
    """Base of `SQLiteStore` and `PostgresStore`: subclasses give the connection and the dialect.

    A read-only store (`read_only=True`) never creates, migrates or writes anything: `open`
    checks that the database holds a tidings event log of this schema version (else a
    `StoreError` naming the fix) and every write raises `StoreError`.
    """

    retry_for: float = 30.0
    """How long (seconds) a write is retried while the database is unreachable or locked."""

    read_only: bool = False

    def __init__(self) -> None:
        self._appends: list[_Append] = []
        self._group = _Group()
        self._outcomes: list[Outcome] = []
        self._calls: list[_Op] = []
        self._committing: _Group | None = None
        self._wakeup: anyio.Event | None = None
        self._running = False
        self._writer_scope: anyio.CancelScope | None = None
        self._writer_done: anyio.Event | None = None
        self._backoff = 0.05
        self._writer_limiter = anyio.CapacityLimiter(1)
        self._reader_limiter = anyio.CapacityLimiter(1)

    # -- dialect hooks (run in worker threads) --------------------------------------------------

    @abstractmethod
    def _connect(self) -> None:
        """Open the connections (called in a worker thread)."""

    @abstractmethod
    def _disconnect(self) -> None:
        """Close the connections (called in a worker thread)."""

    @abstractmethod
    def _transaction(self, body: Callable[[Cursor], Any]) -> Any:
        """Run `body(cursor)` in one write transaction and commit it."""

    @abstractmethod
    def _read(self, body: Callable[[Cursor], Any]) -> Any:
        """Run `body(cursor)` on a read connection."""

    @abstractmethod
    def _is_row_error(self, exc: BaseException) -> bool:
        """True when the error comes from the rows written (a value the database refuses), not
        from the database (unreachable, locked, full): then each write of the group is tried
        alone. Anything else is retried for `retry_for` seconds."""

    def _is_lasting(self, exc: BaseException) -> bool:
        """True when retrying cannot help (the file is gone): fail at once."""
        return isinstance(exc, StoreError)

    @abstractmethod
    def _upgrade(self, cursor: Cursor) -> int:
        """Create or migrate the schema in the open transaction; return the version."""

    @abstractmethod
    def _tables(self, cursor: Cursor) -> set[str]:
        """The names of the tables in the store's database (or PostgreSQL schema)."""

    def _upgrade_own(self, cursor: Cursor) -> int:
        """`_upgrade`, unless the database has tables of the same names that are not ours."""
        tables = self._tables(cursor)
        if "tidings_schema" not in tables and tables & _TABLES:
            raise StoreError(
                f"{self} is not a tidings event log: it has its own"
                f" {' and '.join(sorted(tables & _TABLES))} table; use another database"
                " (or another PostgreSQL schema) for the event log"
            )
        return self._upgrade(cursor)

    def _verify(self, cursor: Cursor) -> int:
        """Check, reading only, that the database holds an event log of `SCHEMA_VERSION`."""
        tables = self._tables(cursor)
        if not tables:
            raise StoreError(f"{self} holds no event log yet; {UPGRADE_HINT}")
        if "tidings_schema" not in tables or not tables >= _TABLES:
            shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
            raise StoreError(
                f"{self} is not a tidings event log (it holds {shown}); point it at the event log"
            )
        cursor.execute("SELECT max(version) FROM tidings_schema")
        version = cursor.fetchone()[0] or 0
        if version < SCHEMA_VERSION:
            raise StoreError(f"{self} has schema version {version}, older than {SCHEMA_VERSION};"
                             f" {UPGRADE_HINT}")
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self} has schema version {version}, newer than this tidings"
                             f" ({SCHEMA_VERSION}); upgrade tidings")
        return int(version)

    def refuse_write(self) -> None:
        """StoreError if this store was opened read-only (called before every write)."""
        if self.read_only:
            raise StoreError(f"{self} is opened read-only; it does not write")

    @abstractmethod
    def _db_time(self, value: datetime | None) -> Any: ...

    @abstractmethod
    def _py_time(self, value: Any) -> datetime | None: ...

    @abstractmethod
    def _db_uuid(self, value: UUID | None) -> Any: ...

    def _py_uuid(self, value: Any) -> UUID:
        return value if isinstance(value, UUID) else UUID(str(value))

    def _sql(self, text: str) -> str:
        """The dialect's form of a query written with `?` placeholders."""
        return text

    payload_column = "payload"

    # -- lifecycle ------------------------------------------------------------------------------

    async def open(self) -> None:
        try:
            await anyio.to_thread.run_sync(self._connect, limiter=self._writer_limiter)
            if self.read_only:
                await anyio.to_thread.run_sync(self._read, self._verify, limiter=self._reader_limiter)
            else:
                await anyio.to_thread.run_sync(
                    self._transaction, self._upgrade_own, limiter=self._writer_limiter
                )
        except Exception as exc:
            await anyio.to_thread.run_sync(self._disconnect)
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"cannot open {self}: {_first_line(exc)}") from exc

    def start(self, task_group: TaskGroup) -> None:
        if self.read_only:
            return  # nothing to write: no writer
        self._running = True
        # Shielded: a bus cancels its task group at the end of a timed-out shutdown, and what
        # was recorded until then must still be committed; `close()` stops the writer.
        self._writer_scope = anyio.CancelScope(shield=True)
        self._writer_done = anyio.Event()
        task_group.start_soon(self._writer)

    async def close(self) -> None:
        with anyio.CancelScope(shield=True):
            try:
                if self._running and self._writer_scope is not None and self._writer_done is not None:
                    with anyio.move_on_after(self.retry_for):
                        await self.flush()
                    self._running = False
                    self._writer_scope.cancel()
                    await self._writer_done.wait()
            finally:
                self._running = False
                await anyio.to_thread.run_sync(self._disconnect)

    async def upgrade(self) -> int:
        self.refuse_write()
        version: int = await self._call(self._upgrade_own)
        return version

    def __str__(self) -> str:
        return type(self).__name__

    # -- the writer -----------------------------------------------------------------------------

    def _kick(self) -> None:
        if not self._running:
            self.refuse_write()
            raise RuntimeError(f"{self} is not open: use `async with store:` (an EventBus does it)")
        if self._wakeup is not None:
            self._wakeup.set()

    async def _call(self, fn: Call, idempotent: bool = True) -> Any:
        op = _Op(fn, idempotent)
        self._calls.append(op)
        self._kick()
        return await op.wait()

    async def _writer(self) -> None:
        assert self._writer_scope is not None and self._writer_done is not None
        try:
            with self._writer_scope:
                while True:
                    if not (self._appends or self._outcomes or self._calls):
                        self._wakeup = anyio.Event()
                        await self._wakeup.wait()
                        continue
                    appends, outcomes, calls = self._appends, self._outcomes, self._calls
                    group = self._group
                    self._appends, self._outcomes, self._calls = [], [], []
                    self._group = _Group()
                    self._committing = group
                    try:
                        kept = await self._commit_group(appends, outcomes, calls, group)
                    finally:
                        self._committing = None
                        group.done.set()
                    if kept:
                        # The database is down, full or locked: wait before trying the kept
                        # outcomes again (new appends wait with them, and fail if it lasts).
                        await anyio.sleep(self._backoff)
                        self._backoff = min(self._backoff * 2, 2.0)
                    else:
                        self._backoff = 0.05
        finally:
            if self._outcomes:
                log.error(
                    "%s: %d delivery outcomes not recorded (the database stayed unavailable);"
                    " those deliveries run again once their lease ends", self, len(self._outcomes),
                )
            self._writer_done.set()

    async def _commit_group(
        self, appends: list[_Append], outcomes: list[Outcome], calls: list[_Op], group: _Group
    ) -> bool:
        """Commit one group; True when its outcomes could not be written and were queued again."""
        give_up = anyio.current_time() + self.retry_for
        delay = 0.05
        attempt_calls = calls
        while True:
            try:
                results = await anyio.to_thread.run_sync(
                    self._transaction,
                    lambda cur, calls=attempt_calls: self._write(cur, appends, outcomes, calls),
                    limiter=self._writer_limiter,
                )
            except Exception as exc:
                if self._is_row_error(exc):
                    return await self._commit_each(appends, outcomes, attempt_calls, group, exc)
                if not self._is_lasting(exc) and anyio.current_time() < give_up:
                    log.warning("%s: write failed (%s); retrying in %.2fs", self, exc, delay)
                    # A claim may have been committed before the connection dropped: never
                    # repeat it blindly, let its caller ask again.
                    for op in attempt_calls:
                        if not op.idempotent:
                            op.error = self._error("the write failed", exc)
                            op.done.set()
                    attempt_calls = [op for op in attempt_calls if op.idempotent]
                    await anyio.sleep(delay)
                    delay = min(delay * 2, 2.0)
                    continue
                # The database itself cannot take writes now: the appends fail (their callers
                # learn that the messages were not accepted), the outcomes are kept for later.
                log.error("%s: write failed (%s); %d message(s) not stored, %d delivery outcomes"
                          " kept to write later", self, exc, len(appends), len(outcomes))
                for index, append in enumerate(appends):
                    group.errors[index] = self._error(f"message {append[0].id} not stored", exc)
                for op in attempt_calls:
                    op.error = self._error("the write failed", exc)
                    op.done.set()
                self._keep(outcomes)
                return bool(outcomes)
            for op, result in zip(attempt_calls, results, strict=True):
                op.result = result
                op.done.set()
            return False

    def _keep(self, outcomes: list[Outcome]) -> None:
        """Queue outcomes that could not be written again, ahead of newer ones (they are
        idempotent: writing one twice leaves the row as writing it once)."""
        if outcomes:
            self._outcomes[:0] = outcomes

    def _error(self, what: str, cause: BaseException) -> StoreError:
        error = StoreError(f"{self}: {what}: {str(cause).strip() or type(cause).__name__}")
        error.__cause__ = cause
        return error

    async def _commit_each(
        self, appends: list[_Append], outcomes: list[Outcome], calls: list[_Op], group: _Group,
        first: BaseException,
    ) -> bool:
        # A group failed because of one of its rows: commit each part alone so one bad write
        # does not fail the others, and hand each caller its own error.
        log.warning("%s: group commit failed (%s); committing one by one", self, first)
        kept = False
        if outcomes:
            try:
                await self._write_alone([], outcomes, [])
            except Exception as exc:
                if not self._is_row_error(exc):
                    self._keep(outcomes)
                    kept = True
                else:
                    for outcome in outcomes:
                        try:
                            await self._write_alone([], [outcome], [])
                        except Exception as one:
                            if self._is_row_error(one):
                                log.error("%s: delivery outcome %s not recorded: %s", self,
                                          outcome, one)
                            else:
                                self._keep([outcome])
                                kept = True
        for index, append in enumerate(appends):
            try:
                await self._write_alone([append], [], [])
            except Exception as exc:
                log.error("%s: message %s not stored: %s", self, append[0].id, exc)
                group.errors[index] = self._error(f"message {append[0].id} not stored", exc)
        for op in calls:
            try:
                op.result = (await self._write_alone([], [], [op]))[0]
            except Exception as exc:
                op.error = self._error("the write failed", exc)
            op.done.set()
        return kept

    async def _write_alone(
        self, appends: list[_Append], outcomes: list[Outcome], calls: list[_Op]
    ) -> list[Any]:
        results: list[Any] = await anyio.to_thread.run_sync(
            self._transaction, lambda cur: self._write(cur, appends, outcomes, calls),
            limiter=self._writer_limiter,
        )
        return results

    def _write(
        self, cur: Cursor, appends: list[_Append], outcomes: list[Outcome], calls: list[_Op]
    ) -> list[Any]:
        if appends:
            self._insert(cur, appends)
        if outcomes:
            self._update(cur, merge_outcomes(outcomes))
        return [op.fn(cur) for op in calls if op.fn is not None]

    @abstractmethod
    def _insert(self, cur: Cursor, appends: list[_Append]) -> None:
        """Insert the messages and their `running` delivery rows (attempt 1), skipping rows that
        exist (a retried batch), in as few statements as the dialect allows."""

    @abstractmethod
    def _update(self, cur: Cursor, outcomes: list[Outcome]) -> None:
        """Apply outcomes (at most one per delivery: see `merge_outcomes`), in few statements."""

    # -- the Store API --------------------------------------------------------------------------

    async def append(
        self, message: StoredMessage, subscribers: Sequence[str], owner: str, lease_until: datetime
    ) -> None:
        group, index = self._group, len(self._appends)
        self._appends.append((message, subscribers, owner, lease_until))
        self._kick()
        await group.done.wait()
        if index in group.errors:
            raise group.errors[index]

    def append_later(
        self, message: StoredMessage, subscribers: Sequence[str], owner: str, lease_until: datetime
    ) -> None:
        self._appends.append((message, subscribers, owner, lease_until))
        self._kick()

    def record(self, outcome: Outcome) -> None:
        self._outcomes.append(outcome)
        self._kick()

    async def flush(self) -> None:
        # Wait for the group that will hold what is queued (or the one being committed); no
        # write of its own, so many concurrent flushes cost one commit.
        if self._appends or self._outcomes or self._calls:
            group = self._group
            self._kick()
            await group.done.wait()
        elif self._committing is not None:
            await self._committing.done.wait()
        else:
            await anyio.lowlevel.checkpoint()

    def _due_clause(self) -> str:
        # Parameters: now, now, owner, now, owner. A row the claiming bus holds itself (its
        # renewals waited behind a locked or full database meanwhile) is still in its hands.
        return (
            "(status = 'pending'"
            " OR (status = 'failed' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
            " AND (lease_until IS NULL OR lease_until < ?) AND (owner IS NULL OR owner <> ?))"
            " OR (status = 'running' AND (lease_until IS NULL OR lease_until < ?)"
            " AND (owner IS NULL OR owner <> ?)))"
        )

    @abstractmethod
    def _claim_rows(
        self, cur: Cursor, owner: str, subscribers: Sequence[str], now: datetime,
        lease_until: datetime, limit: int,
    ) -> list[tuple[Any, str, int, int]]:
        """Mark the due rows running; return (message id, subscriber, attempts, delivery id)."""

    async def claim(
        self, owner: str, subscribers: Sequence[str], now: datetime, lease_until: datetime, limit: int
    ) -> list[Claim]:
        if not subscribers:
            return []

        def body(cur: Cursor) -> list[Claim]:
            rows = sorted(
                self._claim_rows(cur, owner, subscribers, now, lease_until, limit), key=lambda r: r[3]
            )
            messages, unreadable = self._messages_by_id(cur, list({r[0] for r in rows}))
            claims: list[Claim] = []
            dead: list[tuple[Any, str]] = []
            for message_id, subscriber, attempt, row_id in rows:
                message = messages.get(message_id)
                if message is None:
                    reason = unreadable.get(message_id, "its row in `messages` is missing")
                    dead.append((row_id, f"cannot read the stored message {message_id}: {reason}"))
                else:
                    claims.append(Claim(message, subscriber, attempt))
            if dead:
                # A row edited by hand (or damaged) that no bus can read: it goes dead with the
                # reason, in this transaction, and never blocks the others.
                for row_id, error in dead:
                    log.error("%s: delivery %s goes dead: %s", self, row_id, error)
                    cur.execute(self._sql(
                        "UPDATE deliveries SET status = 'dead', last_error = ?, owner = NULL,"
                        " lease_until = NULL, next_attempt_at = NULL WHERE id = ?"
                    ), (error, row_id))
            return claims

        claims: list[Claim] = await self._call(body, idempotent=False)
        return claims

    def _messages_by_id(
        self, cur: Cursor, ids: list[Any]
    ) -> tuple[dict[Any, StoredMessage], dict[Any, str]]:
        """The messages with these ids (keyed by the id as the database gave it), and why each
        unreadable one cannot be read (a bad UUID, time, encoding...)."""
        found: dict[Any, StoredMessage] = {}
        unreadable: dict[Any, str] = {}
        select = (f"SELECT id, name, version, {self.payload_column}, emitted_at, correlation_id,"
                  " causation_id, producer, traceparent FROM messages WHERE id IN ")
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            try:
                cur.execute(self._sql(select + f"({', '.join('?' * len(chunk))})"), chunk)
                rows = cur.fetchall()
            except Exception as exc:
                if not self._is_row_error(exc) and not self._is_decode_error(exc):
                    raise
                rows = []
                for one in chunk:  # find the row the driver cannot load
                    try:
                        cur.execute(self._sql(select + "(?)"), [one])
                        rows.extend(cur.fetchall())
                    except Exception as error:
                        if not self._is_row_error(error) and not self._is_decode_error(error):
                            raise
                        unreadable[one] = f"{type(error).__name__}: {error}"
            for row in rows:
                try:
                    found[row[0]] = self._message(row)
                except (ValueError, TypeError, AssertionError) as exc:
                    unreadable[row[0]] = f"{type(exc).__name__}: {exc}"
        return found, unreadable

    def _is_decode_error(self, exc: BaseException) -> bool:
        """True when the driver could not turn one row's stored value into Python (a store
        whose driver reports that as a database error says so here)."""
        return False

    def _message(self, row: Sequence[Any]) -> StoredMessage:
        emitted = self._py_time(row[4])
        if emitted is None:
            raise ValueError("emitted_at is NULL")
        return StoredMessage(
            self._py_uuid(row[0]), row[1], row[2], row[3], emitted, self._py_uuid(row[5]),
            None if row[6] is None else self._py_uuid(row[6]), row[7], row[8],
        )

    def _readable_message(self, row: Sequence[Any]) -> StoredMessage:
        """`_message`, or a StoreError naming the row that does not read back (for `log`)."""
        try:
            return self._message(row)
        except (ValueError, TypeError) as exc:
            raise StoreError(
                f"{self}: the messages row with id {row[0]!r} does not read back ({exc or 'null'});"
                " fix or delete the row"
            ) from None

    _delivery_columns = (
        "message_id, subscriber, status, attempts, last_error, next_attempt_at, owner, lease_until,"
        " updated_at"
    )

    def _delivery(self, row: Sequence[Any]) -> Delivery:
        try:
            updated = self._py_time(row[8])
            assert updated is not None
            status: Status = row[2] if row[2] in STATUSES else "pending"
            return Delivery(
                self._py_uuid(row[0]), row[1], status, row[3], row[4], self._py_time(row[5]),
                row[6], self._py_time(row[7]), updated,
            )
        except (ValueError, TypeError, AssertionError) as exc:
            raise StoreError(
                f"{self}: the deliveries row of message {row[0]!r} for {row[1]!r} does not read"
                f" back ({exc or 'null'}); fix or delete the row"
            ) from None

    async def renew(self, owner: str, lease_until: datetime) -> None:
        def body(cur: Cursor) -> None:
            cur.execute(self._sql(
                "UPDATE deliveries SET lease_until = ? WHERE owner = ? AND status IN ('running', 'failed')"
            ), (self._db_time(lease_until), owner))

        await self._call(body)

    async def reset(
        self,
        *,
        message_id: UUID | None = None,
        subscriber: str | None = None,
        statuses: Sequence[Status] | None = None,
        since: datetime | None = None,
        name: str | None = None,
        subscribers: Sequence[str] | None = None,
        dry_run: bool = False,
    ) -> list[tuple[UUID, str]]:
        where, params = reset_where(
            None if message_id is None else self._db_uuid(message_id), subscriber, statuses,
            None if since is None else self._db_time(since), name, subscribers,
        )
        sql = (
            f"SELECT id, message_id, subscriber FROM deliveries WHERE {' AND '.join(where)}"
            if dry_run else
            "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = NULL,"
            f" owner = NULL, lease_until = NULL WHERE {' AND '.join(where)}"
            " RETURNING id, message_id, subscriber"
        )

        def body(cur: Cursor) -> list[tuple[UUID, str]]:
            cur.execute(self._sql(sql), params)
            return [(self._py_uuid(r[1]), r[2]) for r in sorted(cur.fetchall())]

        keys: list[tuple[UUID, str]] = await self._call(body)
        return keys

    async def deliveries(self, keys: Sequence[tuple[UUID, str]]) -> list[Delivery]:
        def body(cur: Cursor) -> list[Delivery]:
            found: list[Delivery] = []
            for start in range(0, len(keys), 400):
                chunk = keys[start:start + 400]
                cur.execute(
                    self._sql(f"SELECT {self._delivery_columns} FROM deliveries WHERE {_keys_clause(chunk)}"),
                    [v for m, s in chunk for v in (self._db_uuid(m), s)],
                )
                found.extend(self._delivery(r) for r in cur.fetchall())
            return found

        rows: list[Delivery] = await self._reading(body)
        return rows

    async def _reading(self, body: Call) -> Any:
        """`body(cursor)` on the read connection; a database error is a `StoreError`."""
        try:
            return await anyio.to_thread.run_sync(self._read, body, limiter=self._reader_limiter)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"{self}: cannot read it ({_first_line(exc)})") from exc

    async def find_ids(self, suffix: str, *, column: str = "id", limit: int = 10) -> list[UUID]:
        if column not in ("id", "correlation_id"):
            raise ValueError(f"column must be id or correlation_id, got {column!r}")
        pattern = "%" + suffix.lower().replace("%", "").replace("_", "")
        text = self._uuid_text(column)

        def body(cur: Cursor) -> list[UUID]:
            cur.execute(self._sql(
                f"SELECT DISTINCT {column} FROM messages WHERE {text} LIKE ? ORDER BY {column}"
                " LIMIT ?"), (pattern, limit))
            return [self._py_uuid(r[0]) for r in cur.fetchall()]

        found: list[UUID] = await self._reading(body)
        return found

    async def stats(self, *, totals: bool = True) -> StoreStats:
        open_in = ", ".join(f"'{s}'" for s in OPEN)

        def body(cur: Cursor) -> StoreStats:
            counted: dict[Status, int] = dict.fromkeys(STATUSES if totals else (*OPEN, "dead"), 0)
            cur.execute(f"SELECT status, count(*) FROM deliveries WHERE status IN ({open_in}, 'dead')"
                        " GROUP BY status")
            for status, count in cur.fetchall():
                counted[status] = int(count)
            cur.execute(self._sql(
                f"SELECT subscriber, count(*) FROM deliveries WHERE status IN ({open_in})"
                " AND subscriber LIKE ? GROUP BY subscriber ORDER BY subscriber"), (RELAY_PREFIX + "%",))
            outbox = {str(name): int(count) for name, count in cur.fetchall()}
            cur.execute(f"SELECT min(m.emitted_at) FROM deliveries d JOIN messages m ON m.id ="
                        f" d.message_id WHERE d.status IN ({open_in})")
            oldest = self._py_time(cur.fetchone()[0])
            messages = None
            if totals:
                cur.execute("SELECT count(*) FROM messages")
                messages = int(cur.fetchone()[0])
                cur.execute("SELECT count(*) FROM deliveries")
                counted["succeeded"] = int(cur.fetchone()[0]) - sum(
                    n for status, n in counted.items() if status != "succeeded")
            return StoreStats(messages, counted, outbox, oldest)

        found: StoreStats = await self._reading(body)
        return found

    def _uuid_text(self, column: str) -> str:
        """SQL for the lower-case text of a uuid column."""
        return f"lower({column})"

    async def log(
        self,
        *,
        name: str | None = None,
        status: Status | None = None,
        correlation_id: UUID | None = None,
        message_id: UUID | None = None,
        limit: int = 100,
    ) -> list[LogEntry]:
        where: list[str] = []
        params: list[Any] = []
        if name is not None:
            where.append("name = ?")
            params.append(name)
        if correlation_id is not None:
            where.append("correlation_id = ?")
            params.append(self._db_uuid(correlation_id))
        if message_id is not None:
            where.append("id = ?")
            params.append(self._db_uuid(message_id))
        if status is not None:
            where.append("id IN (SELECT message_id FROM deliveries WHERE status = ?)")
            params.append(status)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        sql = (
            f"SELECT id, name, version, {self.payload_column}, emitted_at, correlation_id, causation_id,"
            f" producer, traceparent FROM messages{clause} ORDER BY id DESC LIMIT ?"
        )

        def body(cur: Cursor) -> list[LogEntry]:
            cur.execute(self._sql(sql), [*params, limit])
            messages = sorted((self._readable_message(r) for r in cur.fetchall()), key=lambda m: m.emitted_at)
            rows: dict[UUID, list[Delivery]] = {}
            ids = [self._db_uuid(m.id) for m in messages]
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                cur.execute(self._sql(
                    f"SELECT {self._delivery_columns} FROM deliveries"
                    f" WHERE message_id IN ({', '.join('?' * len(chunk))}) ORDER BY id"
                ), chunk)
                for r in cur.fetchall():
                    delivery = self._delivery(r)
                    rows.setdefault(delivery.message_id, []).append(delivery)
            return [LogEntry(m, tuple(rows.get(m.id, ()))) for m in messages]

        entries: list[LogEntry] = await self._reading(body)
        return entries


def reset_where(
    message_id: Any, subscriber: str | None, statuses: Sequence[Status] | None, since: Any,
    name: str | None, subscribers: Sequence[str] | None = None,
) -> tuple[list[str], list[Any]]:
    """The WHERE clauses (`?` placeholders) and parameters of the deliveries `Store.reset` changes
    (never `running` ones); `message_id` and `since` come in the dialect's form."""
    where = ["status <> 'running'"]
    params: list[Any] = []
    if message_id is not None:
        where.append("message_id = ?")
        params.append(message_id)
    if subscriber is not None:
        where.append("subscriber = ?")
        params.append(subscriber)
    if statuses is not None:
        where.append(f"status IN ({', '.join('?' * len(statuses))})")
        params.extend(statuses)
    if since is not None:
        where.append("updated_at >= ?")
        params.append(since)
    if name is not None:
        where.append("message_id IN (SELECT id FROM messages WHERE name = ?)")
        params.append(name)
    if subscribers is not None:  # only these (an empty list: none)
        where.append(f"subscriber IN ({', '.join('?' * len(subscribers)) or 'NULL'})")
        params.extend(subscribers)
    return where, params


_BROWSE_INDEXES = (
    "CREATE INDEX IF NOT EXISTS deliveries_status_message ON deliveries (status, message_id)",
    "CREATE INDEX IF NOT EXISTS messages_name_id ON messages (name, id)",
)
"""What browsing the log (`LogReader`: pages by status or name, newest first) needs."""


def browse_indexes(cursor: Cursor) -> None:
    """Create the indexes for browsing the log when missing (idempotent: `_upgrade` runs it at
    every open, after the versioned migrations)."""
    for statement in _BROWSE_INDEXES:
        cursor.execute(statement)


def merge_outcomes(outcomes: list[Outcome]) -> list[Outcome]:
    """The outcomes with those of one delivery folded into one, which has the effect of applying
    them in order: the last one's fields, the sum of the attempt deltas, the last error given."""
    merged: dict[tuple[UUID, str], Outcome] = {}
    for outcome in outcomes:
        key = (outcome.message_id, outcome.subscriber)
        before = merged.get(key)
        if before is not None:
            outcome = replace(
                outcome, error=before.error if outcome.error is None else outcome.error,
                attempts_delta=before.attempts_delta + outcome.attempts_delta,
            )
        merged[key] = outcome
    return list(merged.values()) if len(merged) < len(outcomes) else outcomes


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def as_utc(value: datetime) -> datetime:
    """`value` as an aware UTC datetime (naive values are taken as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
