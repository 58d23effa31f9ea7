"""What listeners receive: an `Event`, or on an `EventBus` a `Message` that also says where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Event(Generic[T]):
    """One emitted event: its `name` and its `data` (None when `emit` got no data)."""

    name: str
    data: T

    def __init__(self, name: str, data: T) -> None:  # faster than the generated frozen __init__
        _set_name(self, name)
        _set_data(self, data)


_set_name = Event.__dict__["name"].__set__
_set_data = Event.__dict__["data"].__set__


@dataclass(frozen=True, slots=True)
class Message(Event[T]):
    """An event or command as an `EventBus` delivers it: the typed payload in `data`, plus its log identity.

    `id` is unique per message and stable across retries and replays, so a handler can be
    idempotent; `attempt` is 1 on the first delivery; `correlation_id` is shared by every
    message caused (transitively) by the same first message; `causation_id` is the id of the
    message whose handler emitted this one, or None; `traceparent` is the W3C trace context
    of the span that emitted it when tracing is on (`tidings.otel`), else None.
    """

    id: UUID = field(kw_only=True)
    version: int = field(default=1, kw_only=True)
    correlation_id: UUID | None = field(default=None, kw_only=True)
    causation_id: UUID | None = field(default=None, kw_only=True)
    attempt: int = field(default=1, kw_only=True)
    emitted_at: datetime | None = field(default=None, kw_only=True)
    producer: str | None = field(default=None, kw_only=True)
    traceparent: str | None = field(default=None, kw_only=True)


AnyEvent = Event[Any]
