"""What every event-log store holds and promises: the records, and the `Store` interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal, Self
from uuid import UUID

import anyio
from anyio.abc import TaskGroup

Status = Literal["pending", "running", "succeeded", "failed", "dead"]
"""A delivery's status: `pending` runs as soon as a bus claims it; `running` is owned by a bus
until its lease ends; `failed` runs again at `next_attempt_at`; `succeeded` and `dead` are final
(until replayed)."""

STATUSES: tuple[Status, ...] = ("pending", "running", "succeeded", "failed", "dead")
SCHEMA_VERSION = 2
"""The schema version this code writes; `upgrade()` brings a database up to it (2 added
`messages.traceparent`)."""


class StoreError(Exception):
    """The store cannot be opened or used (bad path or DSN, server down, newer schema...)."""


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (what every store writes)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message as the log keeps it: `payload` is the JSON text of the validated model;
    `traceparent` is the W3C trace context of the span that emitted it (None when tracing was
    off), which every delivery of it continues."""

    id: UUID
    name: str
    version: int
    payload: str
    emitted_at: datetime
    correlation_id: UUID
    causation_id: UUID | None
    producer: str | None
    traceparent: str | None

    def __init__(  # faster than the generated frozen __init__ (one per emit)
        self, id: UUID, name: str, version: int, payload: str, emitted_at: datetime,
        correlation_id: UUID, causation_id: UUID | None, producer: str | None,
        traceparent: str | None = None,
    ) -> None:
        _m_id(self, id)
        _m_name(self, name)
        _m_version(self, version)
        _m_payload(self, payload)
        _m_emitted_at(self, emitted_at)
        _m_correlation_id(self, correlation_id)
        _m_causation_id(self, causation_id)
        _m_producer(self, producer)
        _m_traceparent(self, traceparent)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One row of `deliveries`: the state of one message for one named subscriber."""

    message_id: UUID
    subscriber: str
    status: Status
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    owner: str | None
    lease_until: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery a bus claimed to run: the stored message, the subscriber, the attempt number."""

    message: StoredMessage
    subscriber: str
    attempt: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """A change to one delivery row, written with the next group commit.

    `error` None keeps `last_error`; `attempts_delta` is added to `attempts`.
    """

    message_id: UUID
    subscriber: str
    status: Status
    at: datetime
    error: str | None = None
    next_attempt_at: datetime | None = None
    owner: str | None = None
    lease_until: datetime | None = None
    attempts_delta: int = 0

    def __init__(  # faster than the generated frozen __init__ (one per delivery)
        self, message_id: UUID, subscriber: str, status: Status, at: datetime,
        error: str | None = None, next_attempt_at: datetime | None = None, owner: str | None = None,
        lease_until: datetime | None = None, attempts_delta: int = 0,
    ) -> None:
        _o_message_id(self, message_id)
        _o_subscriber(self, subscriber)
        _o_status(self, status)
        _o_at(self, at)
        _o_error(self, error)
        _o_next_attempt_at(self, next_attempt_at)
        _o_owner(self, owner)
        _o_lease_until(self, lease_until)
        _o_attempts_delta(self, attempts_delta)


# Slot descriptors: the __init__s above fill the slots through them, which costs about half of
# what the generated frozen __init__ does through object.__setattr__.
_m = {name: StoredMessage.__dict__[name].__set__ for name in StoredMessage.__slots__}
_o = {name: Outcome.__dict__[name].__set__ for name in Outcome.__slots__}
(_m_id, _m_name, _m_version, _m_payload, _m_emitted_at, _m_correlation_id, _m_causation_id,
 _m_producer, _m_traceparent) = (_m[f.name] for f in fields(StoredMessage))
(_o_message_id, _o_subscriber, _o_status, _o_at, _o_error, _o_next_attempt_at, _o_owner,
 _o_lease_until, _o_attempts_delta) = (_o[f.name] for f in fields(Outcome))


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A message and its deliveries, as `tidings log` shows them."""

    message: StoredMessage
    deliveries: tuple[Delivery, ...]


OPEN: tuple[Status, ...] = ("pending", "running", "failed")
"""The statuses of a delivery that is not final yet."""
RELAY_PREFIX = "tidings.relay:"
"""The subscriber names of the outbox relays (`tidings.relay:<transport kind>`)."""


@dataclass(frozen=True, slots=True)
class StoreStats:
    """What an event log holds, counted: `Store.stats()`.

    `deliveries` has a count for every status (`succeeded` only when totals were asked for;
    the others are exact from the status index); `messages` is None without totals;
    `outbox` is the number of open (pending, running or failed) deliveries per outbox relay
    (`tidings.relay:<kind>`), relays with none left out; `oldest_pending` is the emit time
    of the oldest message that has an open delivery, or None."""

    messages: int | None
    deliveries: dict[Status, int]
    outbox: dict[str, int]
    oldest_pending: datetime | None


class Store(ABC):
    """Where an `EventBus` keeps its messages and deliveries.

    Use it as an async context manager (`async with store:`), which opens it, brings its schema
    up to date and starts its writer; the bus does this itself. Writes are group-committed:
    concurrent `append` calls and queued `record` outcomes share one transaction.
    """

    notifies: bool = False
    """True when `wait_signal` can hear other processes (PostgreSQL LISTEN/NOTIFY)."""

    _own_tg: TaskGroup | None = None

    async def __aenter__(self) -> Self:
        """Open the store and run its writer in a task group of its own (standalone use)."""
        await self.open()
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._own_tg = tg
        self.start(tg)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        tg, self._own_tg = self._own_tg, None
        try:
            await self.close()
        finally:
            if tg is not None:
                tg.cancel_scope.cancel()
                await tg.__aexit__(None, None, None)

    @abstractmethod
    async def open(self) -> None:
        """Connect and create or upgrade the schema."""

    def start(self, task_group: TaskGroup) -> None:
        """Start the background writer in `task_group` (after `open`); stores without one pass."""
        return None

    @abstractmethod
    async def close(self) -> None:
        """Commit what is queued, stop the writer, disconnect."""

    @abstractmethod
    async def upgrade(self) -> int:
        """Bring the schema to `SCHEMA_VERSION` (idempotent); return the version now in place."""

    @abstractmethod
    async def append(
        self, message: StoredMessage, subscribers: Sequence[str], owner: str, lease_until: datetime
    ) -> None:
        """Durably store `message` and one `running` delivery per subscriber (attempt 1, owned by
        `owner` until `lease_until`) in one transaction; returns once committed."""

    @abstractmethod
    def append_later(
        self, message: StoredMessage, subscribers: Sequence[str], owner: str, lease_until: datetime
    ) -> None:
        """`append` without waiting: queued for the next group commit (see `flush`); if that write
        fails the store logs it. For a message the broker still holds, where waiting is not needed."""

    @abstractmethod
    def record(self, outcome: Outcome) -> None:
        """Queue a delivery change; it is committed with the next group (see `flush`)."""

    @abstractmethod
    async def flush(self) -> None:
        """Wait until everything queued so far is committed."""

    @abstractmethod
    async def claim(
        self, owner: str, subscribers: Sequence[str], now: datetime, lease_until: datetime, limit: int
    ) -> list[Claim]:
        """Atomically take up to `limit` due deliveries of the subscribers, oldest first: `pending`
        ones, `failed` ones whose `next_attempt_at` has come (and whose holder's lease ended) and
        `running` ones whose lease ended (a crashed bus), never one `owner` holds itself (its
        lease may have ended while the database could not take its renewals: the delivery is
        still in its hands). They become `running`, owned by `owner`, with `attempts` + 1.
        Several buses may claim concurrently; none gets a row twice."""

    @abstractmethod
    async def renew(self, owner: str, lease_until: datetime) -> None:
        """Extend the lease of every delivery `owner` holds."""

    @abstractmethod
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
        """Set the matching deliveries (never `running` ones; only those of `subscribers` when
        given) back to `pending` with a fresh retry budget; return their (message id, subscriber)
        keys, oldest first. With `dry_run`, change nothing and return the keys it would reset."""

    @abstractmethod
    async def deliveries(self, keys: Sequence[tuple[UUID, str]]) -> list[Delivery]:
        """The current rows of these deliveries (those that exist)."""

    @abstractmethod
    async def log(
        self,
        *,
        name: str | None = None,
        status: Status | None = None,
        correlation_id: UUID | None = None,
        message_id: UUID | None = None,
        limit: int = 100,
    ) -> list[LogEntry]:
        """Messages (oldest first, the last `limit`) with their deliveries; `status` keeps the
        messages having a delivery in that status."""

    @abstractmethod
    async def find_ids(self, suffix: str, *, column: str = "id", limit: int = 10) -> list[UUID]:
        """Up to `limit` distinct stored message ids (or, with `column="correlation_id"`,
        correlation ids) that end with the hex digits `suffix`, in order: what a short id as
        `tidings log` prints it stands for."""

    @abstractmethod
    async def stats(self, *, totals: bool = True) -> StoreStats:
        """Count what the log holds (see `StoreStats`): the open and dead deliveries by status,
        each relay's outbox backlog and the oldest open delivery's emit time, read from the
        status index (cheap while few deliveries are open); with `totals`, also the messages
        and the succeeded deliveries, which counts every row (seconds on a log of millions)."""

    def reader(self) -> Store:
        """A store on the same database that only reads (never creates, migrates or writes), as
        `tidings log` uses; `StoreError` for a store that has no such twin."""
        raise StoreError(f"{self} cannot be opened read-only; pass the event log's --db URL")

    async def wait_signal(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for another process to announce due work (PostgreSQL
        LISTEN/NOTIFY); True if it did. Stores without such a channel just return False."""
        return False
