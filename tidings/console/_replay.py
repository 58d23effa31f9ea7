"""Replay from the console: what a selection covers, and jobs that reset it and follow the outcome.

With the app's bus (`--app`), a replay is `EventBus.replay` / `EventBus.replay_failed` (the
handlers run in the console's process), as `tidings replay` does; without it the rows are reset
with `Store.reset` for the running buses sharing the log to pick up.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import anyio

from tidings.console._logs import Log
from tidings.runtime.stores import STATUSES, Delivery, Status

Kind = Literal["delivery", "message", "selected", "subscriber"]
KINDS: tuple[Kind, ...] = ("delivery", "message", "selected", "subscriber")
FINAL: tuple[Status, ...] = ("succeeded", "dead")


@dataclass(frozen=True, slots=True)
class Selection:
    """What to replay in one log: one delivery, every delivery of a message, a list of deliveries
    (`selected`), or every failed and dead delivery of a subscriber (`subscriber`)."""

    log: int
    kind: Kind
    message_id: UUID | None = None
    subscriber: str | None = None
    keys: tuple[tuple[UUID, str], ...] = ()

    def describe(self) -> str:
        """The selection in words, for the confirmation and the audit log."""
        if self.kind == "subscriber":
            return f"every failed and dead delivery of {self.subscriber}"
        if self.kind == "message":
            return f"every delivery of message {self.message_id}"
        if self.kind == "delivery":
            return f"the delivery of message {self.message_id} to {self.subscriber}"
        return f"{len(self.keys)} selected deliveries"

    def as_json(self) -> dict[str, Any]:
        """The selection as JSON values (the API's and the audit table's form)."""
        return {
            "log": self.log, "kind": self.kind,
            "message_id": None if self.message_id is None else str(self.message_id),
            "subscriber": self.subscriber,
            "keys": [[str(m), s] for m, s in self.keys],
        }


def make_selection(log: int, kind: str, message_id: str | None, subscriber: str | None,
                   keys: list[str] | list[list[str]]) -> Selection:
    """A `Selection` from request values; `keys` are `message_id|subscriber` strings or pairs.
    Raises ValueError naming the field that is wrong."""
    if kind not in KINDS:
        raise ValueError(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    mid = _uuid(message_id, "message_id") if message_id else None
    pairs: list[tuple[UUID, str]] = []
    for key in keys:
        parts = key.split("|", 1) if isinstance(key, str) else list(key)
        if len(parts) != 2 or not parts[1]:
            raise ValueError(f"keys: {key!r} is not message_id|subscriber")
        pairs.append((_uuid(parts[0], "keys"), parts[1]))
    if kind == "delivery" and (mid is None or not subscriber):
        raise ValueError("a delivery replay needs message_id and subscriber")
    if kind == "message" and mid is None:
        raise ValueError("a message replay needs message_id")
    if kind == "subscriber" and not subscriber:
        raise ValueError("a subscriber replay needs subscriber")
    if kind == "selected" and not pairs:
        raise ValueError("select at least one delivery")
    if kind == "delivery":
        assert mid is not None and subscriber
        pairs = [(mid, subscriber)]
    return Selection(log, kind,
                     mid, subscriber or None, tuple(dict.fromkeys(pairs)))


def _uuid(value: str, what: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise ValueError(f"{what}: {value!r} is not a message id") from None


def affected(log: Log, selection: Selection) -> int:
    """How many delivery rows replaying `selection` changes now (blocking: a worker thread's)."""
    if selection.kind in ("delivery", "selected"):
        return log.reader.resettable(keys=selection.keys)
    if selection.kind == "message":
        return log.reader.resettable(message_id=selection.message_id)
    return log.reader.resettable(subscriber=selection.subscriber, statuses=("failed", "dead"))


async def reset(log: Log, selection: Selection) -> list[tuple[UUID, str]]:
    """Replay `selection`: through the app's bus when the log has one (its handlers run here), else
    by resetting the rows in the store; return the keys of the deliveries that went back to pending."""
    bus, store = log.bus, log.store
    rows: list[Delivery] = []
    keys: list[tuple[UUID, str]] = []
    if selection.kind == "subscriber":
        if bus is not None:
            rows = await bus.replay_failed(selection.subscriber, wait=False)
        else:
            keys = await store.reset(subscriber=selection.subscriber, statuses=("failed", "dead"))
    elif selection.kind == "message":
        assert selection.message_id is not None
        if bus is not None:
            rows = await bus.replay(selection.message_id, wait=False)
        else:
            keys = await store.reset(message_id=selection.message_id)
    else:
        for message_id, subscriber in selection.keys:
            if bus is not None:
                rows += await bus.replay(message_id, subscriber, wait=False)
            else:
                keys += await store.reset(message_id=message_id, subscriber=subscriber)
    return keys or [(r.message_id, r.subscriber) for r in rows]


_ids = itertools.count(1)


@dataclass(eq=False)
class Job:
    """A replay under way: its keys and, as they settle, their rows."""

    id: int
    log: Log
    selection: Selection
    actor: str
    started: datetime
    keys: list[tuple[UUID, str]] = field(default_factory=list)
    rows: dict[tuple[UUID, str], Delivery] = field(default_factory=dict)
    finished: datetime | None = None
    action_id: int | None = None
    error: str | None = None

    def counts(self) -> dict[str, int]:
        """How many of the replayed deliveries are in each status now."""
        found: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for row in self.rows.values():
            found[row.status] += 1
        found["pending"] += len(self.keys) - len(self.rows)
        return found

    @property
    def settled(self) -> bool:
        """True once every replayed delivery succeeded or went dead."""
        return all(k in self.rows and self.rows[k].status in FINAL for k in self.keys)

    def outcome(self) -> str:
        """The outcome in words (`3 succeeded, 1 dead`, or what is still under way)."""
        if self.error is not None:
            return f"error: {self.error}"
        counts = self.counts()
        text = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing replayed"
        return text if self.finished or not self.keys else f"{text} (under way)"

    def as_json(self) -> dict[str, Any]:
        """The job as the API returns it."""
        return {
            "id": self.id, "selection": self.selection.as_json(), "actor": self.actor,
            "started": self.started.isoformat(),
            "finished": None if self.finished is None else self.finished.isoformat(),
            "settled": self.settled, "counts": self.counts(), "outcome": self.outcome(),
            "deliveries": [
                {"message_id": str(m), "subscriber": s,
                 "status": self.rows[(m, s)].status if (m, s) in self.rows else "pending",
                 "attempts": self.rows[(m, s)].attempts if (m, s) in self.rows else 0}
                for m, s in self.keys[:1000]
            ],
        }


class Jobs:
    """The console's replays: started, followed in the background until settled, kept in memory."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.jobs: dict[int, Job] = {}

    async def run(self, log: Log, selection: Selection, actor: str, rows: int,
                  follow: Any) -> Job:
        """Record the action, reset the selection and start following it with `follow(job)` (a
        task starter); returns the job once its rows are reset."""
        job = Job(next(_ids), log, selection, actor, datetime.now(UTC))
        self.jobs[job.id] = job
        audit = log.audit
        if audit is not None:
            job.action_id = await anyio.to_thread.run_sync(
                audit.record, actor, "replay", selection.as_json(), rows)
        try:
            job.keys = await reset(log, selection)
        except Exception as exc:
            job.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            job.finished = datetime.now(UTC)
            await self._finish(job)
            return job
        follow(self._follow, job)
        return job

    async def _follow(self, job: Job) -> None:
        with anyio.move_on_after(self.timeout):
            while True:
                await self.poll(job)
                if job.settled:
                    break
                await anyio.sleep(0.1)
        await self.poll(job)
        job.finished = datetime.now(UTC)
        await self._finish(job)

    async def poll(self, job: Job) -> None:
        """Read the current rows of the job's deliveries."""
        open_keys = [k for k in job.keys if k not in job.rows or job.rows[k].status not in FINAL]
        for start in range(0, len(open_keys), 2000):
            chunk = open_keys[start:start + 2000]
            for row in await anyio.to_thread.run_sync(job.log.reader.deliveries, chunk):
                job.rows[(row.message_id, row.subscriber)] = row

    async def _finish(self, job: Job) -> None:
        if job.log.audit is not None and job.action_id is not None:
            await anyio.to_thread.run_sync(job.log.audit.finish, job.action_id, job.outcome())
