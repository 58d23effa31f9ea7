"""The one state of a started bus with a store: who it is in the log, how long its leases
last, and where it stands in its life (running, closing, abandoning, stopped)."""

from __future__ import annotations

import logging
import signal
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

import anyio
from anyio.abc import TaskGroup

from tidings.runtime._clock import SYSTEM_CLOCK, Clock

log = logging.getLogger("tidings.bus")

Phase = Literal["stopped", "running", "closing", "abandoning"]
"""`running`: takes new work; `closing`: no new work, deliveries under way may finish (and
their handlers may still emit); `abandoning`: the shutdown timed out, what is left is cancelled
and goes back to `pending`; `stopped`: before the first start and after each stop."""


class Lifecycle:
    """Where a bus with a store stands, and what that implies for everyone working for it.

    `owner` is the bus's identity in `deliveries.owner` while started (host:pid:random);
    `task_group` is the outer task group its loops and consumers run in while started.
    """

    __slots__ = ("_closing", "_lease_delta", "clock", "interrupted", "lease", "owner", "phase",
                 "task_group")

    def __init__(self, lease: float, clock: Clock = SYSTEM_CLOCK) -> None:
        self.lease = lease
        self.clock = clock
        """Where retry times, due deliveries and leases read the time."""
        self._lease_delta = timedelta(seconds=lease)
        self.owner = ""
        self.phase: Phase = "stopped"
        self.task_group: TaskGroup | None = None
        self._closing: anyio.Event | None = None
        self.interrupted: BaseException | None = None
        """The KeyboardInterrupt/SystemExit a background handler raised (see `interrupt`)."""

    def begin(self, owner: str, task_group: TaskGroup) -> None:
        """Started: running as `owner`, loops in `task_group`."""
        self.owner = owner
        self.task_group = task_group
        self.phase = "running"
        self._closing = anyio.Event()
        self.interrupted = None

    def close(self) -> None:
        """No new work from now on; everyone waiting in `pause_until`/`wait_closing` wakes."""
        self.phase = "closing"
        if self._closing is not None:
            self._closing.set()

    def interrupting(self, stop: BaseException) -> None:
        """A background handler raised `stop` (KeyboardInterrupt, SystemExit) and its attempt
        is being recorded: from now on the bus takes no new work (`taking_work` is False), so
        the retry it records is left to the next start."""
        if self.task_group is not None and self.interrupted is None:
            self.interrupted = stop

    @property
    def taking_work(self) -> bool:
        """True while the bus claims deliveries and takes them from the broker: running, and
        no handler has interrupted it."""
        return self.phase == "running" and self.interrupted is None

    def interrupt(self, stop: BaseException) -> bool:
        """A background handler raised `stop` (KeyboardInterrupt, SystemExit), its attempt
        recorded: cancel everything the bus runs, so leaving `async with bus:` shuts down at
        once and raises `stop` there. False when the bus is stopped (the caller raises it)."""
        if self.task_group is None:
            return False
        if self.interrupted is None:
            self.interrupted = stop
        self.task_group.cancel_scope.cancel()
        return True

    def abandon(self) -> None:
        """The shutdown timed out: what has not finished is left for the next start."""
        self.phase = "abandoning"

    def end(self) -> None:
        """Stopped."""
        self.phase = "stopped"
        self._closing = None
        self.task_group = None

    def check_emit(self, name: str, started: bool, in_handler: bool) -> None:
        """RuntimeError unless `name` may be emitted now: the bus must be started, and while it
        shuts down only handlers still finishing may emit (until it abandons them)."""
        if not started:
            raise RuntimeError(
                f"cannot emit {name!r}: an EventBus with a store must be started first, with"
                " `async with bus:` (it opens the store and runs retries and recovery)")
        if self.closing and (self.abandoning or not in_handler):
            raise RuntimeError(f"cannot emit {name!r}: the bus is shutting down")

    @property
    def running(self) -> bool:
        """True while the bus takes new work."""
        return self.phase == "running"

    @property
    def closing(self) -> bool:
        """True from the start of the shutdown to its end."""
        return self.phase == "closing" or self.phase == "abandoning"

    @property
    def abandoning(self) -> bool:
        """True once the shutdown gave up waiting (queued work is released, not run)."""
        return self.phase == "abandoning"

    @property
    def lease_delta(self) -> timedelta:
        """The lease as a timedelta."""
        return self._lease_delta

    def now(self) -> datetime:
        """The current time on this bus's clock."""
        return self.clock.now()

    def lease_until(self) -> datetime:
        """When a lease taken now ends."""
        return self.clock.now() + self._lease_delta

    async def wait_closing(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the shutdown to begin; True once it has."""
        closing = self._closing
        if closing is None:
            return True
        with anyio.move_on_after(timeout):
            await closing.wait()
        return self.phase != "running"

    async def pause_until(self, when: datetime) -> bool:
        """Sleep until `when` on the bus's clock; True if the bus began to shut down meanwhile
        (or is stopped)."""
        delay = max(0.0, (when - self.clock.now()).total_seconds())
        if self.clock is SYSTEM_CLOCK:
            return await self.wait_closing(delay)
        closing = self._closing
        if closing is None:
            return True
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._sleep_then_cancel, delay, tg)
            await closing.wait()
            tg.cancel_scope.cancel()
        return self.phase != "running"

    async def _sleep_then_cancel(self, delay: float, tg: TaskGroup) -> None:
        await self.clock.sleep(delay)
        tg.cancel_scope.cancel()


async def until_signal(signals: Sequence[signal.Signals]) -> None:
    """Return when one of `signals` arrives (logged); from the main thread only."""
    with anyio.open_signal_receiver(*signals) as received:
        async for signum in received:
            log.warning("%s received: shutting down gracefully", signal.Signals(signum).name)
            return
