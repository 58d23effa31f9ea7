"""The tidings runtime: the only package generated code imports (needs only anyio and pydantic)."""

from tidings.runtime._clock import SYSTEM_CLOCK, Clock, SystemClock
from tidings.runtime._event import Event, Message
from tidings.runtime._retry import PermanentError, RetryPolicy
from tidings.runtime._spec import CatalogSpec, Kind, MessageSpec
from tidings.runtime._upcast import UpcastError
from tidings.runtime.bus import (
    EmitError,
    EventBus,
    MainModuleNameWarning,
    Subscriber,
    UnknownSubscriberError,
)
from tidings.runtime.emitter import (
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
from tidings.runtime.stores import (
    MemoryStore,
    PostgresStore,
    SQLiteStore,
    Store,
    StoreError,
    open_store,
)
from tidings.runtime.transports import (
    MessageTooLarge,
    NatsTransport,
    SnsSqsTransport,
    Transport,
    TransportError,
)

__all__ = [
    "LISTENER_ADDED",
    "LISTENER_REMOVED",
    "SYSTEM_CLOCK",
    "CatalogSpec",
    "Clock",
    "DebugOptions",
    "EmitError",
    "Emittery",
    "Event",
    "EventBus",
    "EventIterator",
    "Kind",
    "MainModuleNameWarning",
    "MemoryStore",
    "ListenerChange",
    "Message",
    "MessageSpec",
    "MessageTooLarge",
    "Mode",
    "NatsTransport",
    "Once",
    "PermanentError",
    "PostgresStore",
    "RetryPolicy",
    "SQLiteStore",
    "SnsSqsTransport",
    "Store",
    "StoreError",
    "Subscriber",
    "SystemClock",
    "Transport",
    "TransportError",
    "UpcastError",
    "UnknownSubscriberError",
    "current_event",
    "open_store",
]
