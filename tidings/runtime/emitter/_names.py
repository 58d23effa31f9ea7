"""What an emitter's API speaks in: event names (and the meta events), subscriber modes,
listeners, debug options, and the context variable that says which message is being handled."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from tidings.runtime._event import Event

log = logging.getLogger("tidings")

current_event: ContextVar[Event[Any] | None] = ContextVar("tidings_current_event", default=None)
"""The message whose listener is running in this context, or None: `EventBus` sets it around
every delivery (sync, async and serial), which is how a message emitted by a handler finds its
cause. Plain `Emittery` leaves it alone (setting a context variable costs more than an emit)."""

Mode = Literal["sync", "async", "serial"]
"""How a subscriber runs: `sync` is awaited by emit; `async` runs in the background; `serial`
runs in the background one event at a time, in emit order."""

MODES: Final = frozenset(get_args(Mode))

Listener = Callable[[Any], object]


class MetaEvent(str):
    """A meta event name: equal only to itself, never to a plain string (like a JS Symbol)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    def __hash__(self) -> int:
        return id(self)


LISTENER_ADDED: Final[str] = MetaEvent("listenerAdded")
"""Meta event emitted after a listener was added; its data is a `ListenerChange`."""
LISTENER_REMOVED: Final[str] = MetaEvent("listenerRemoved")
"""Meta event emitted after a listener was removed; its data is a `ListenerChange`."""


@dataclass(frozen=True, slots=True)
class ListenerChange:
    """Data of `LISTENER_ADDED`/`LISTENER_REMOVED`: the name (None for on_any/off_any) and listener."""

    event_name: str | None
    listener: Listener


DebugLogger = Callable[[str, "str | None", "str | None", Any], None]


def _default_logger(kind: str, debug_name: str | None, event_name: str | None, data: Any) -> None:
    log.debug("[%s][%s] Event Name: %s data: %r", kind, debug_name, event_name, data)


@dataclass(slots=True)
class DebugOptions:
    """Emittery's debug options: `enabled` may be toggled at run time; `logger` is called as
    `logger(kind, name, event_name, data)` (the default writes to the stdlib logger `tidings`)."""

    name: str | None = None
    enabled: bool = False
    logger: DebugLogger = _default_logger


def event_names(names: str | Sequence[str]) -> tuple[str, ...]:
    """`names` (one name or a list of names) as a tuple; TypeError when one is not a str."""
    if isinstance(names, str):
        return (names,)
    result = tuple(names) if isinstance(names, (list, tuple)) else None
    if result is None or not all(isinstance(n, str) for n in result):
        raise TypeError(f"event names must be str or a list of str, got {names!r}")
    return result


def check_listener(listener: object, what: str = "listener") -> None:
    """TypeError unless `listener` is callable (`what` names it in the message)."""
    if not callable(listener):
        raise TypeError(f"{what} must be callable, got {listener!r}")


def check_mode(mode: object) -> None:
    """ValueError unless `mode` is one of the subscriber modes."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of 'sync', 'async', 'serial', got {mode!r}")
