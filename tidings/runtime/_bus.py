"""`EventBus`: the catalog-aware bus. Every payload is validated into its model; listeners get a `Message`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from tidings.runtime._emitter import DebugOptions, Emittery, EventIterator, Mode, Once, _names, current_event
from tidings.runtime._event import Message
from tidings.runtime._spec import CatalogSpec, MessageSpec, RetryPolicy

MessageListener = Callable[[Message[Any]], object]


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A named subscription: recovery and replay find a subscriber by its stable `name`."""

    name: str
    names: tuple[str, ...]
    listener: MessageListener
    mode: Mode
    retry: RetryPolicy | None


class EventBus(Emittery):
    """An `Emittery` that knows its catalog: names must be declared, payloads are validated into
    their pydantic model before anything runs, and listeners receive a typed `Message`.

    A message emitted inside a listener inherits the handled message's correlation id and takes
    its id as causation id, so the thread of execution can be followed.
    """

    def __init__(self, catalog: CatalogSpec, *, debug: DebugOptions | None = None) -> None:
        super().__init__(debug=debug)
        self.catalog = catalog
        self.subscribers: dict[str, Subscriber] = {}

    def _spec(self, name: object) -> MessageSpec:
        if not isinstance(name, str):
            raise TypeError(f"event name must be a str, got {name!r}")
        return self.catalog.get(name)

    def message(self, name: str, data: object = None, /, *, producer: str | None = None) -> Message[Any]:
        """Validate `data` (a model instance, or anything the model parses) and wrap it in a new Message.

        Raises KeyError for a name the catalog lacks and pydantic.ValidationError for a bad payload.
        """
        spec = self._spec(name)
        payload = data if type(data) is spec.model else spec.model.model_validate(data)
        cause = current_event.get()
        if isinstance(cause, Message):
            correlation, causation = cause.correlation_id or cause.id, cause.id
        else:
            correlation, causation = None, None
        message_id = uuid4()
        return Message(
            name, payload, id=message_id, version=spec.version, correlation_id=correlation or message_id,
            causation_id=causation, emitted_at=datetime.now(UTC), producer=producer,
        )

    async def emit(self, name: str, data: Any = None, /, *, producer: str | None = None) -> None:
        """Validate, then deliver like `Emittery.emit` (sync listeners awaited, errors grouped)."""
        await self.publish(name, data, producer=producer)

    async def publish(
        self, name: str, data: object = None, /, *, producer: str | None = None
    ) -> Message[Any]:
        """`emit`, returning the delivered `Message` (its id identifies it in the log)."""
        message = self.message(name, data, producer=producer)
        subs = self._prepare(message, "emit")
        if subs:
            errors: list[Exception] = []
            token = current_event.set(message)
            try:
                await self._run(subs, 0, message, errors)
            finally:
                current_event.reset(token)
            if errors:
                raise ExceptionGroup(f"{len(errors)} listener(s) of {name!r} failed", errors)
        return message

    async def emit_serial(self, name: str, data: Any = None, /, *, producer: str | None = None) -> None:
        """Validate, then run the listeners one after another (the first error propagates)."""
        message = self.message(name, data, producer=producer)
        token = current_event.set(message)
        try:
            await self._serially(self._prepare(message, "emit_serial"), message)
        finally:
            current_event.reset(token)

    def on(
        self,
        names: str | Sequence[str],
        listener: MessageListener,
        /,
        *,
        mode: Mode = "sync",
        name: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> Callable[[], None]:
        """Subscribe under a stable subscriber `name` (default `module:qualname` of the listener).

        Every name must be declared in the catalog; one subscriber name belongs to one listener.
        """
        selected = _names(names)
        for event_name in selected:
            self._spec(event_name)
        if name is None:
            qualname = getattr(listener, "__qualname__", repr(listener))
            name = f"{getattr(listener, '__module__', '?')}:{qualname}"
        known = self.subscribers.get(name)
        if known is not None and known.listener != listener:
            raise ValueError(
                f"subscriber name {name!r} is already used by {known.listener!r}; pass a unique name="
            )
        off = super().on(selected, listener, mode=mode)
        merged = tuple(dict.fromkeys((*(known.names if known else ()), *selected)))
        self.subscribers[name] = Subscriber(name, merged, listener, mode, retry)
        return off

    def once(
        self, names: str | Sequence[str], predicate: Callable[[Any], object] | None = None, /
    ) -> Once[Message[Any]]:
        """Like `Emittery.once`, for declared names only; resolves to the first matching Message."""
        for event_name in _names(names):
            self._spec(event_name)
        return super().once(names, predicate)  # type: ignore[return-value]

    def events(self, names: str | Sequence[str], /) -> EventIterator[Message[Any]]:
        """Like `Emittery.events`, for declared names only; yields Messages."""
        for event_name in _names(names):
            self._spec(event_name)
        return super().events(names)  # type: ignore[return-value]

