"""The store gauges: each started bus's event log is counted every `interval` seconds (in the
bus's task group) and the gauges report the last counts, so an exporter's collection (in its own
thread, or a Prometheus scrape) never waits for the database."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from tidings.runtime.bus._lifecycle import Lifecycle
from tidings.runtime.stores import Store, StoreStats

log = logging.getLogger("tidings.otel")

CATALOG = "tidings.catalog"
STATUS = "tidings.delivery.status"
RELAY = "tidings.relay"


class Watched:
    """One started bus's event log and its last counts."""

    __slots__ = ("catalog", "relays", "stats", "store")

    def __init__(self, store: Store, catalog: str, relays: Sequence[str]) -> None:
        self.store = store
        self.catalog = catalog
        self.relays = tuple(relays)
        self.stats: StoreStats | None = None

    async def refresh(self) -> None:
        """Count the log now (a failure is logged and keeps the last counts)."""
        try:
            self.stats = await self.store.stats(totals=False)
        except Exception as exc:
            log.warning("counting the event log %s for the gauges failed: %r", self.store, exc)


class Gauges:
    """The observable gauges over every watched log (`active()` False: they report nothing)."""

    def __init__(self, meter: Meter, interval: float, active: Callable[[], bool]) -> None:
        self.interval = interval
        self.active = active
        self.watched: list[Watched] = []
        meter.create_observable_gauge(
            "tidings.deliveries.current", [self._deliveries], unit="{delivery}",
            description="Deliveries in the event log now, by status (pending, running, failed, dead)")
        meter.create_observable_gauge(
            "tidings.outbox.backlog", [self._outbox], unit="{message}",
            description="Messages each outbox relay has not handed to its broker yet")
        meter.create_observable_gauge(
            "tidings.deliveries.oldest_pending_age", [self._oldest], unit="s",
            description="Seconds since the oldest message with an open delivery was emitted (0: none)")

    async def watch(self, store: Store, catalog: str, relays: Sequence[str], lifecycle: Lifecycle) -> None:
        """Count `store` every `interval` seconds while the bus runs (the first count at once)."""
        watched = Watched(store, catalog, relays)
        self.watched.append(watched)
        try:
            while lifecycle.running and self.active():
                await watched.refresh()
                if await lifecycle.wait_closing(self.interval):
                    break
        finally:
            self.watched.remove(watched)

    async def refresh(self) -> None:
        """Count every watched log now."""
        for watched in list(self.watched):
            await watched.refresh()

    def _counted(self) -> Iterator[tuple[Watched, StoreStats]]:
        if self.active():
            for watched in list(self.watched):
                if watched.stats is not None:
                    yield watched, watched.stats

    def _deliveries(self, options: CallbackOptions) -> Iterator[Observation]:
        for watched, stats in self._counted():
            for status, count in stats.deliveries.items():
                yield Observation(count, {CATALOG: watched.catalog, STATUS: status})

    def _outbox(self, options: CallbackOptions) -> Iterator[Observation]:
        for watched, stats in self._counted():
            for relay in watched.relays:
                yield Observation(stats.outbox.get(relay, 0), {CATALOG: watched.catalog, RELAY: relay})

    def _oldest(self, options: CallbackOptions) -> Iterator[Observation]:
        now = datetime.now(UTC)
        for watched, stats in self._counted():
            age = 0.0 if stats.oldest_pending is None else (now - stats.oldest_pending).total_seconds()
            yield Observation(max(0.0, age), {CATALOG: watched.catalog})
