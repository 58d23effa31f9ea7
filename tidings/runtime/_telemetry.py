"""The telemetry slot: where an instrumentation (`tidings.otel.instrument()`) plugs its hooks into
the bus. The runtime imports nothing of OpenTelemetry: while `slot.hooks` is None (tracing and
metrics off) each emit and each delivery attempt pays one `is None` check and nothing else."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from tidings.runtime._event import Message
from tidings.runtime.bus._lifecycle import Lifecycle
from tidings.runtime.stores._base import Store


class Attempt(ABC):
    """One delivery attempt as telemetry sees it, from start to exactly one outcome."""

    @abstractmethod
    def succeeded(self) -> None:
        """The handler returned: the delivery is done."""

    @abstractmethod
    def failed(self, error: BaseException, retry_at: datetime | None) -> None:
        """The handler raised: it runs again at `retry_at`, or (None) the delivery is dead."""

    @abstractmethod
    def abandoned(self) -> None:
        """Cancelled by the bus (shutdown): the delivery goes back to `pending`."""


class Hooks(ABC):
    """What an instrumentation observes. Every method is called with the hooks installed only."""

    @abstractmethod
    async def publish(self, name: str, send: Callable[[str | None], Awaitable[Message[Any]]]
                      ) -> Message[Any]:
        """Run `send(traceparent)` (validate, store and dispatch one message named `name`, which
        carries `traceparent`) inside the producer's telemetry; return what it returns."""

    @abstractmethod
    def attempt(self, message: Message[Any], subscriber: str, transport: str | None) -> Attempt:
        """A delivery attempt of `message` to `subscriber` starts now (`transport` is the kind of
        the broker it came from for a remote subscriber, else None); the attempt's context is
        current until its outcome is told."""

    @abstractmethod
    def replaying(self, keys: Sequence[tuple[UUID, str]]) -> None:
        """The deliveries `keys` were just reset to run again (a replay)."""

    @abstractmethod
    def watch(self, store: Store, catalog: str, relays: Sequence[str], lifecycle: Lifecycle) -> None:
        """A bus on `store` started (its outbox relays are `relays`); it runs while `lifecycle` does."""


class Slot:
    """The one place the bus looks for hooks."""

    __slots__ = ("hooks",)

    def __init__(self) -> None:
        self.hooks: Hooks | None = None
        """The installed hooks, or None (telemetry off)."""


slot = Slot()
"""The process's telemetry slot (`tidings.otel.instrument()` fills it, `uninstrument()` empties it)."""
