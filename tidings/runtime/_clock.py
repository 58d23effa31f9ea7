"""Where a bus with a store reads the time for retries and leases: the real clock by default; a
test passes one it controls (`tidings.testing.FakeClock`) to run backoff without waiting."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import anyio


class Clock(Protocol):
    """The time a bus computes retry times, due deliveries and leases from."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once `seconds` have passed on this clock."""
        ...


class SystemClock:
    """The real clock: `datetime.now(UTC)` and `anyio.sleep`."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """Sleep `seconds` of real time."""
        await anyio.sleep(seconds)


SYSTEM_CLOCK = SystemClock()
"""The clock every bus uses unless given another."""
