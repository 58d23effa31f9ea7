"""The catalog-aware bus: `EventBus` composes a dispatcher (the emitter's), the named
subscribers and their runners, a worker (claim/renew/signal loops, start and shutdown), the
outbox relay and the remote subscribers' consumers.

`EventBus` is still an `Emittery` (`isinstance` holds, so code written for an emitter takes a
bus): it extends Emittery's public API and drives the same `Dispatcher` through its public
methods; nothing here reads Emittery's private state."""

from tidings.runtime.bus._bus import EmitError, EventBus
from tidings.runtime.bus._runner import BROKER_LEASE
from tidings.runtime.bus._settled import FINAL, settled
from tidings.runtime.bus._subscribers import MainModuleNameWarning, Subscriber, UnknownSubscriberError

__all__ = [
    "BROKER_LEASE", "FINAL", "EmitError", "EventBus", "MainModuleNameWarning", "Subscriber",
    "UnknownSubscriberError", "settled",
]
