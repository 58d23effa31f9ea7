"""`MemoryStore`: the event log in a dict, for tests and throw-away buses (same behaviour, no disk)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from uuid import UUID

import anyio

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
    StoreStats,
)


def is_due(row: Delivery, now: datetime, owner: str) -> bool:
    """Whether bus `owner` may claim `row` at `now` (the rule every store implements): never a
    row it holds itself, even once the lease ended in the log."""
    if row.status == "pending":
        return True
    if row.owner is not None and row.owner == owner:
        return False
    if row.status == "failed":
        return (row.next_attempt_at is None or row.next_attempt_at <= now) and (
            row.lease_until is None or row.lease_until < now
        )
    return row.status == "running" and (row.lease_until is None or row.lease_until < now)


class MemoryStore(Store):
    """An in-process store with the same rules as the SQL stores; lost when the process ends."""

    def __init__(self) -> None:
        self.messages: dict[UUID, StoredMessage] = {}
        self.rows: dict[tuple[UUID, str], Delivery] = {}
        self._order: dict[tuple[UUID, str], int] = {}
        self._opened = False

    async def open(self) -> None:
        self._opened = True

    async def close(self) -> None:
        self._opened = False

    async def upgrade(self) -> int:
        return SCHEMA_VERSION

    async def append(
        self, message: StoredMessage, subscribers: Sequence[str], owner: str, lease_until: datetime
    ) -> None:
        self.append_later(message, subscribers, owner, lease_until)
        await anyio.lowlevel.checkpoint()

    def append_later(
        self, message: StoredMessage, subscribers: Sequence[str], owner: str, lease_until: datetime
    ) -> None:
        self.messages.setdefault(message.id, message)  # as the SQL stores: what exists stays
        for subscriber in subscribers:
            key = (message.id, subscriber)
            if key in self.rows:
                continue
            self._order[key] = len(self._order)
            self.rows[key] = Delivery(
                message.id, subscriber, "running", 1, None, None, owner, lease_until, message.emitted_at
            )

    def record(self, outcome: Outcome) -> None:
        key = (outcome.message_id, outcome.subscriber)
        row = self.rows.get(key)
        if row is None:
            return
        self.rows[key] = replace(
            row,
            status=outcome.status,
            attempts=row.attempts + outcome.attempts_delta,
            last_error=outcome.error if outcome.error is not None else row.last_error,
            next_attempt_at=outcome.next_attempt_at,
            owner=outcome.owner,
            lease_until=outcome.lease_until,
            updated_at=outcome.at,
        )

    async def flush(self) -> None:
        await anyio.lowlevel.checkpoint()

    async def claim(
        self, owner: str, subscribers: Sequence[str], now: datetime, lease_until: datetime, limit: int
    ) -> list[Claim]:
        wanted = set(subscribers)
        due = sorted(
            (key for key, row in self.rows.items() if key[1] in wanted and is_due(row, now, owner)),
            key=self._order.__getitem__,
        )[:limit]
        claims = []
        for key in due:
            row = self.rows[key]
            self.rows[key] = replace(
                row, status="running", owner=owner, lease_until=lease_until,
                attempts=row.attempts + 1, updated_at=now,
            )
            claims.append(Claim(self.messages[key[0]], key[1], row.attempts + 1))
        await anyio.lowlevel.checkpoint()
        return claims

    async def renew(self, owner: str, lease_until: datetime) -> None:
        for key, row in self.rows.items():
            if row.owner == owner and row.status in ("running", "failed"):
                self.rows[key] = replace(row, lease_until=lease_until)
        await anyio.lowlevel.checkpoint()

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
        keys = []
        for key in sorted(self.rows, key=self._order.__getitem__):
            row = self.rows[key]
            if (
                row.status == "running"
                or (message_id is not None and key[0] != message_id)
                or (subscriber is not None and key[1] != subscriber)
                or (statuses is not None and row.status not in statuses)
                or (since is not None and row.updated_at < since)
                or (name is not None and self.messages[key[0]].name != name)
                or (subscribers is not None and key[1] not in subscribers)
            ):
                continue
            keys.append(key)
            if dry_run:
                continue
            self.rows[key] = replace(
                row, status="pending", attempts=0, next_attempt_at=None, owner=None, lease_until=None
            )
        await anyio.lowlevel.checkpoint()
        return keys

    async def deliveries(self, keys: Sequence[tuple[UUID, str]]) -> list[Delivery]:
        await anyio.lowlevel.checkpoint()
        return [self.rows[key] for key in keys if key in self.rows]

    async def log(
        self,
        *,
        name: str | None = None,
        status: Status | None = None,
        correlation_id: UUID | None = None,
        message_id: UUID | None = None,
        limit: int = 100,
    ) -> list[LogEntry]:
        by_message: dict[UUID, list[Delivery]] = {}
        for key in sorted(self.rows, key=self._order.__getitem__):
            by_message.setdefault(key[0], []).append(self.rows[key])
        entries = []
        for message in self.messages.values():
            rows = by_message.get(message.id, [])
            if (
                (name is not None and message.name != name)
                or (correlation_id is not None and message.correlation_id != correlation_id)
                or (message_id is not None and message.id != message_id)
                or (status is not None and not any(row.status == status for row in rows))
            ):
                continue
            entries.append(LogEntry(message, tuple(rows)))
        await anyio.lowlevel.checkpoint()
        return entries[-limit:] if limit else entries

    async def find_ids(self, suffix: str, *, column: str = "id", limit: int = 10) -> list[UUID]:
        if column not in ("id", "correlation_id"):
            raise ValueError(f"column must be id or correlation_id, got {column!r}")
        suffix = suffix.lower()
        found = sorted({getattr(m, column) for m in self.messages.values()
                        if str(getattr(m, column)).endswith(suffix)})
        await anyio.lowlevel.checkpoint()
        return found[:limit]

    async def stats(self, *, totals: bool = True) -> StoreStats:
        counted = dict.fromkeys(STATUSES if totals else (*OPEN, "dead"), 0)
        outbox: dict[str, int] = {}
        oldest: datetime | None = None
        for (message_id, subscriber), row in list(self.rows.items()):
            if row.status in counted:
                counted[row.status] += 1
            if row.status in OPEN:
                if subscriber.startswith(RELAY_PREFIX):
                    outbox[subscriber] = outbox.get(subscriber, 0) + 1
                emitted = self.messages[message_id].emitted_at
                oldest = emitted if oldest is None or emitted < oldest else oldest
        await anyio.lowlevel.checkpoint()
        return StoreStats(len(self.messages) if totals else None, counted, dict(sorted(outbox.items())),
                          oldest)
