"""The tidings runtime: the only package generated code imports (needs only anyio and pydantic)."""

from tidings.runtime._bus import EventBus, Subscriber
from tidings.runtime._emitter import (
    LISTENER_ADDED,
    LISTENER_REMOVED,
    DebugOptions,
    Emittery,
    EventIterator,
    ListenerChange,
    Mode,
    Once,
    current_event,
)
from tidings.runtime._event import Event, Message
from tidings.runtime._spec import CatalogSpec, Kind, MessageSpec, RetryPolicy

__all__ = [
    "LISTENER_ADDED",
    "LISTENER_REMOVED",
    "CatalogSpec",
    "DebugOptions",
    "Emittery",
    "Event",
    "EventBus",
    "EventIterator",
    "Kind",
    "ListenerChange",
    "Message",
    "MessageSpec",
    "Mode",
    "Once",
    "RetryPolicy",
    "Subscriber",
    "current_event",
]
