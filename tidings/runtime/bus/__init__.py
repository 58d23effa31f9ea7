"""The catalog-aware bus: `EventBus` composes a dispatcher (the emitter's), the named
subscribers and their runners, a worker (claim/renew/signal loops, start and shutdown), the
outbox relay and the remote subscribers' consumers."""

from tidings.runtime.bus._bus import EmitError, EventBus
from tidings.runtime.bus._runner import BROKER_LEASE
from tidings.runtime.bus._settled import settled
from tidings.runtime.bus._subscribers import Subscriber

__all__ = ["BROKER_LEASE", "EmitError", "EventBus", "Subscriber", "settled"]
