"""The emitter: Emittery's API (`Emittery`), the dispatch path it drives (`Dispatcher`), eager
listener starts, and what `once()` / `events()` return."""

from tidings.runtime.emitter._dispatch import Dispatcher, Queue, Subscription
from tidings.runtime.emitter._eager import Suspended, call, resume, start
from tidings.runtime.emitter._emittery import Emittery
from tidings.runtime.emitter._iterators import EventIterator, Once
from tidings.runtime.emitter._names import (
    LISTENER_ADDED,
    LISTENER_REMOVED,
    DebugOptions,
    Listener,
    ListenerChange,
    Mode,
    current_event,
    event_names,
)

__all__ = [
    "LISTENER_ADDED",
    "LISTENER_REMOVED",
    "DebugOptions",
    "Dispatcher",
    "Emittery",
    "EventIterator",
    "Listener",
    "ListenerChange",
    "Mode",
    "Once",
    "Queue",
    "Subscription",
    "Suspended",
    "call",
    "current_event",
    "event_names",
    "resume",
    "start",
]
