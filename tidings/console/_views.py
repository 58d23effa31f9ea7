"""What the pages and the API show, computed from the logs: message lists merged across logs,
the causation tree of a thread, dead letters grouped by subscriber and error type."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from tidings.console._logs import Log
from tidings.runtime.stores import STATUSES, Delivery, LogEntry, MessageFilter, Problem, Status


@dataclass(frozen=True, slots=True)
class Found:
    """A log entry and the log it is in."""

    log: Log
    entry: LogEntry


def page(logs: Sequence[Log], where: MessageFilter, before: UUID | None, limit: int) -> list[Found]:
    """The newest `limit` messages matching `where` across `logs` (older than `before`)."""
    found = [Found(log, e) for log in logs for e in log.reader.messages(where, before=before, limit=limit)]
    found.sort(key=lambda f: f.entry.message.id, reverse=True)
    return found[:limit]


def counts(logs: Sequence[Log]) -> dict[Status, int]:
    """Deliveries per status, summed over `logs`."""
    total = dict.fromkeys(STATUSES, 0)
    for log in logs:
        for status, n in log.reader.counts().items():
            total[status] += n
    return total


def find(logs: Sequence[Log], message_id: UUID) -> Found | None:
    """The message `message_id` in whichever log holds it."""
    for log in logs:
        entry = log.reader.entry(message_id)
        if entry is not None:
            return Found(log, entry)
    return None


@dataclass
class Node:
    """A message of a thread with the messages it caused."""

    found: Found
    offset_ms: float
    children: list[Node] = field(default_factory=list)


def thread(logs: Sequence[Log], correlation_id: UUID) -> tuple[list[Node], int]:
    """The causation tree of every message sharing `correlation_id` across `logs` (roots are
    messages whose cause is not in the thread), times as offsets from the first; and the count."""
    found = [Found(log, e) for log in logs for e in log.reader.thread(correlation_id)]
    found.sort(key=lambda f: (f.entry.message.emitted_at, f.entry.message.id))
    if not found:
        return [], 0
    start = found[0].entry.message.emitted_at
    nodes = {f.entry.message.id: Node(f, (f.entry.message.emitted_at - start).total_seconds() * 1000)
             for f in found}
    roots: list[Node] = []
    for f in found:
        node = nodes[f.entry.message.id]
        cause = f.entry.message.causation_id
        parent = nodes.get(cause) if cause is not None and cause != f.entry.message.id else None
        (parent.children if parent is not None else roots).append(node)
    return roots, len(found)


@dataclass
class ProblemGroup:
    """Failing or dead deliveries of one subscriber with one error type."""

    log: Log
    subscriber: str
    error_type: str
    problems: list[Problem]

    @property
    def dead(self) -> int:
        """How many of them are dead."""
        return sum(p.delivery.status == "dead" for p in self.problems)


def problems(logs: Sequence[Log], status: Status | None = None, limit: int = 2000) -> list[ProblemGroup]:
    """Failed and dead deliveries grouped by log, subscriber and error type (largest first)."""
    groups: dict[tuple[int, str, str], ProblemGroup] = {}
    for log in logs:
        for p in log.reader.problems(status=status, limit=limit):
            key = (log.index, p.delivery.subscriber, p.error_type)
            if key not in groups:
                groups[key] = ProblemGroup(log, p.delivery.subscriber, p.error_type, [])
            groups[key].problems.append(p)
    return sorted(groups.values(), key=lambda g: (g.log.index, g.subscriber, -len(g.problems)))


def pretty(payload: str) -> str:
    """The payload JSON indented (as stored when it is not JSON)."""
    try:
        return json.dumps(json.loads(payload), indent=2, ensure_ascii=False)
    except ValueError:
        return payload


def summary(text: str | None) -> str:
    """The line of a stored error that names its cause: the last line naming an exception."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    for line in reversed(lines):
        head = line.split(":", 1)[0]
        if ":" in line and head.replace(".", "").replace("_", "").isalnum() and " " not in head:
            return line
    return lines[-1] if lines else ""


def time(value: datetime | None) -> str:
    """A stored time for people: UTC, to the millisecond."""
    return "" if value is None else f"{value:%Y-%m-%d %H:%M:%S}.{value.microsecond // 1000:03d}"


def entry_json(found: Found) -> dict[str, Any]:
    """A message with its deliveries, as the API returns it."""
    m = found.entry.message
    try:
        payload: Any = json.loads(m.payload)
    except ValueError:
        payload = m.payload
    return {
        "log": found.log.index, "id": str(m.id), "name": m.name, "version": m.version,
        "payload": payload, "emitted_at": m.emitted_at.isoformat(),
        "correlation_id": str(m.correlation_id),
        "causation_id": None if m.causation_id is None else str(m.causation_id),
        "producer": m.producer,
        "deliveries": [delivery_json(d) for d in found.entry.deliveries],
    }


def delivery_json(d: Delivery) -> dict[str, Any]:
    """A delivery row as the API returns it."""
    return {
        "message_id": str(d.message_id), "subscriber": d.subscriber, "status": d.status,
        "attempts": d.attempts, "last_error": d.last_error,
        "next_attempt_at": None if d.next_attempt_at is None else d.next_attempt_at.isoformat(),
        "owner": d.owner, "lease_until": None if d.lease_until is None else d.lease_until.isoformat(),
        "updated_at": d.updated_at.isoformat(),
    }
