"""A message between its two shapes: the `Message` a listener gets and the `StoredMessage` the
log keeps (and a transport carries). The one place that builds either from the other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pydantic

from tidings.runtime._event import Message
from tidings.runtime._ids import uuid7
from tidings.runtime._spec import MessageSpec
from tidings.runtime._upcast import UpcastError, Upcasters
from tidings.runtime.emitter import current_event
from tidings.runtime.stores._base import Outcome, Store, StoredMessage

_MESSAGE_FIELDS = ("name", "data", "id", "version", "correlation_id", "causation_id", "attempt",
                   "emitted_at", "producer", "traceparent")
_new = object.__new__


def _message_factory() -> Callable[..., Message[Any]]:
    # A Message built through its slot descriptors, at about half the cost of the generated
    # frozen __init__ (one per emit and per claimed delivery); the plain constructor if the
    # fields ever differ from these.
    if tuple(f.name for f in fields(Message)) != _MESSAGE_FIELDS:
        return lambda name, data, id, version, correlation_id, causation_id, attempt, emitted_at, \
            producer, traceparent: Message(name, data, id=id, version=version,
                                           correlation_id=correlation_id, causation_id=causation_id,
                                           attempt=attempt, emitted_at=emitted_at, producer=producer,
                                           traceparent=traceparent)
    slot = {n: getattr(c, n) for c in reversed(Message.__mro__) for n in getattr(c, "__slots__", ())
            if n in _MESSAGE_FIELDS}
    set_name, set_data, set_id, set_version, set_corr, set_cause, set_attempt, set_at, set_prod, \
        set_trace = (
        slot[n].__set__ for n in _MESSAGE_FIELDS
    )

    def new(name: str, data: Any, id: UUID, version: int, correlation_id: UUID,
            causation_id: UUID | None, attempt: int, emitted_at: datetime,
            producer: str | None, traceparent: str | None) -> Message[Any]:
        message: Message[Any] = _new(Message)
        set_name(message, name)
        set_data(message, data)
        set_id(message, id)
        set_version(message, version)
        set_corr(message, correlation_id)
        set_cause(message, causation_id)
        set_attempt(message, attempt)
        set_at(message, emitted_at)
        set_prod(message, producer)
        set_trace(message, traceparent)
        return message

    return new


new_message: Callable[[str, Any, UUID, int, UUID, UUID | None, int, datetime, str | None,
                       str | None], Message[Any]] = _message_factory()
"""`Message(name, data, id, version, correlation_id, causation_id, attempt, emitted_at,
producer, traceparent)`, positionally and fast (nothing is checked: the caller built valid values)."""


def build_message(spec: MessageSpec, data: object, producer: str | None,
                  traceparent: str | None = None) -> Message[Any]:
    """A new Message of `spec` with `data` validated (a model instance is taken as is); emitted
    inside a handler, it shares the handled message's correlation id and names it as cause.
    `traceparent` is the trace context of the span emitting it (tracing on), else None."""
    payload = data if type(data) is spec.model else spec.model.model_validate(data)
    cause = current_event.get()
    if isinstance(cause, Message):
        correlation, causation = cause.correlation_id or cause.id, cause.id
    else:
        correlation, causation = None, None
    message_id = uuid7()
    return new_message(spec.name, payload, message_id, spec.version, correlation or message_id,
                       causation, 1, datetime.now(UTC), producer, traceparent)


def to_stored(message: Message[Any]) -> StoredMessage:
    """`message` as the log stores it (and as it travels): the payload as its JSON text."""
    assert message.emitted_at is not None and message.correlation_id is not None
    return StoredMessage(
        message.id, message.name, message.version,
        message.data.model_dump_json(by_alias=True, exclude_unset=True),
        message.emitted_at, message.correlation_id, message.causation_id, message.producer,
        message.traceparent,
    )


def from_stored(upcasters: Upcasters, stored: StoredMessage, attempt: int) -> Message[Any]:
    """The `Message` a listener gets for `stored` (attempt `attempt`): the payload validated
    into the catalog's model, through the upcasters when it was stored under an older version
    (the Message then says the catalog's version). KeyError (not in the catalog), UpcastError
    or pydantic.ValidationError."""
    spec = upcasters.catalog.get(stored.name)
    payload = upcasters.load(spec, stored.version, stored.payload)
    return new_message(stored.name, payload, stored.id, max(stored.version, spec.version),
                       stored.correlation_id, stored.causation_id, attempt, stored.emitted_at,
                       stored.producer, stored.traceparent)


def load_or_bury(store: Store, upcasters: Upcasters, stored: StoredMessage, subscriber: str,
                 attempt: int, what: str) -> Message[Any] | None:
    """`from_stored`, or None after recording `subscriber`'s delivery `dead` when the payload
    does not load (`what` says where it came from: "stored", "received")."""
    try:
        return from_stored(upcasters, stored, attempt)
    except (KeyError, UpcastError, pydantic.ValidationError) as exc:
        store.record(Outcome(stored.id, subscriber, "dead", datetime.now(UTC),
                             error=f"cannot load the {what} message: {exc}"))
        return None



def log_fields(message: Message[Any], subscriber: str) -> dict[str, object]:
    """The `extra` of every log record about one delivery: `message_id` (str), `message_name`,
    `subscriber` and `attempt`, so a JSON or structlog formatter can index them."""
    return {"message_id": str(message.id), "message_name": message.name, "subscriber": subscriber,
            "attempt": message.attempt}
