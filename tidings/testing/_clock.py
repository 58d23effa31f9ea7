"""A clock a test moves by hand, so retries and backoff run without waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio


class FakeClock:
    """A `Clock` that only moves when told: `advance(seconds)` or `advance_to(when)`.

    Give it to a bus (`EventBus(..., clock=clock)`; the `tidings_bus` fixture does) and the
    bus's retry times, due deliveries and leases are computed on it; `sleep` returns once the
    clock has been moved past the deadline. It starts at the real current time.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start if start is not None else datetime.now(UTC)
        self._sleepers: list[tuple[datetime, anyio.Event]] = []
        self.advanced = timedelta(0)
        """How far the clock has been moved since it was made."""

    def now(self) -> datetime:
        """The clock's current time."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Return once the clock has been moved `seconds` (or more) past now."""
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        woken = anyio.Event()
        entry = (self._now + timedelta(seconds=seconds), woken)
        self._sleepers.append(entry)
        try:
            await woken.wait()
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    def next_deadline(self) -> datetime | None:
        """When the earliest `sleep` under way ends (None: nobody sleeps on this clock)."""
        return min((when for when, _ in self._sleepers), default=None)

    def advance(self, seconds: float) -> None:
        """Move the clock forward `seconds`, waking every `sleep` that ends by then."""
        if seconds < 0:
            raise ValueError(f"a clock does not go back: advance({seconds})")
        self.advance_to(self._now + timedelta(seconds=seconds))

    def advance_to(self, when: datetime) -> None:
        """Move the clock forward to `when` (no-op if it is already later)."""
        if when <= self._now:
            return
        self.advanced += when - self._now
        self._now = when
        for deadline, woken in list(self._sleepers):
            if deadline <= when:
                self._sleepers.remove((deadline, woken))
                woken.set()
