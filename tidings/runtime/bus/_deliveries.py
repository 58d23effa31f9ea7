"""`Deliveries`: the task group a started bus runs its deliveries in, hosted in a detached task
so that a shutdown never waits past its deadline for a handler that ignores cancellation."""

from __future__ import annotations

import anyio
from anyio.abc import TaskGroup

from tidings.runtime.bus._lifecycle import Lifecycle
from tidings.runtime.emitter._eager import Helper


class Deliveries:
    """The deliveries' task group, in a task of its own beside the bus's task group (a trio
    system task, an asyncio task: the emitter's `Helper`), not inside it.

    The bus's shutdown `cancel()`s it and waits (`closed()`) a bounded time; a delivery that
    shields itself from the cancellation keeps running there after `detach()`, and leaving
    `async with bus:` does not wait for it (the event loop still does, at its end). A delivery
    task that crashes hands its error to the bus (`Lifecycle.interrupt`), which stops and raises it.
    """

    __slots__ = ("_detached", "_done", "_group", "_helper", "_lifecycle", "_ready")

    def __init__(self, lifecycle: Lifecycle) -> None:
        self._lifecycle = lifecycle
        self._ready = anyio.Event()
        self._done = anyio.Event()
        self._group: TaskGroup | None = None
        self._helper: Helper | None = None
        self._detached = False

    async def open(self) -> TaskGroup:
        """Start the hosting task; its task group, once it runs."""
        self._helper = Helper(self._host)
        await self._ready.wait()
        assert self._group is not None
        return self._group

    async def _host(self) -> None:
        try:
            async with anyio.create_task_group() as group:
                self._group = group
                self._ready.set()
                await anyio.sleep_forever()
        except BaseException as exc:
            if isinstance(exc, anyio.get_cancelled_exc_class()) or not self._lifecycle.interrupt(exc):
                raise
        finally:
            self._ready.set()
            self._done.set()

    def cancel(self) -> None:
        """Cancel every delivery still running (the shutdown's deadline passed, or none left)."""
        if self._group is not None:
            self._group.cancel_scope.cancel()

    @property
    def done(self) -> bool:
        """True once every delivery ended and the hosting task with them."""
        return self._done.is_set()

    async def closed(self) -> None:
        """Wait until `done` (bound it: a delivery may ignore its cancellation)."""
        await self._done.wait()

    def detach(self) -> None:
        """Leave what still runs to itself: `join` no longer waits for it."""
        self._detached = True

    async def join(self) -> None:
        """Wait for the hosting task (at once when `done`; never when detached) and raise what
        ended it, if the bus was not there to take it."""
        if self._helper is not None and not self._detached:
            await self._helper.join()
