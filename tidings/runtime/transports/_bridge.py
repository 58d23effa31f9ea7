"""The trio <-> asyncio bridge: an asyncio loop in a thread of its own, for clients that run
on asyncio only (nats-py) when the bus runs on trio."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Call:
    """One call crossing the bridge: what to run, and what came of it."""

    __slots__ = ("args", "cancelled", "done", "error", "fn", "result", "task", "token")

    def __init__(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...], done: Any,
                 token: Any) -> None:
        self.fn, self.args, self.done, self.token = fn, args, done, token
        self.task: asyncio.Task[None] | None = None
        self.cancelled = False
        self.result: Any = None
        self.error: BaseException | None = None


class Bridge:
    """An asyncio loop in a daemon thread, awaited from trio. Calls cross in batches: one wakeup
    of the loop for every call queued meanwhile, one wakeup of trio for every call finished."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="tidings-nats", daemon=True)
        self.thread.start()
        self._lock = threading.Lock()
        self._calls: deque[Call] = deque()
        self._finished: deque[Call] = deque()
        self._loop_woken = False
        self._trio_woken = False

    async def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Await `fn(*args)` in the loop from trio; cancelling the wait cancels the call there."""
        import trio

        call = Call(fn, args, trio.Event(), trio.lowlevel.current_trio_token())
        with self._lock:
            self._calls.append(call)
            wake, self._loop_woken = not self._loop_woken, True
        if wake:
            self.loop.call_soon_threadsafe(self._start_calls)
        try:
            await call.done.wait()
        except BaseException:
            call.cancelled = True
            self.loop.call_soon_threadsafe(self._cancel, call)
            raise
        if call.error is not None:
            raise call.error
        return call.result  # type: ignore[no-any-return]

    def _start_calls(self) -> None:  # in the loop
        with self._lock:
            calls, self._calls = self._calls, deque()
            self._loop_woken = False
        for call in calls:
            if not call.cancelled:
                call.task = self.loop.create_task(self._run(call))

    async def _run(self, call: Call) -> None:  # in the loop
        try:
            call.result = await call.fn(*call.args)
        except BaseException as exc:
            call.error = exc
        with self._lock:
            self._finished.append(call)
            wake, self._trio_woken = not self._trio_woken, True
        if wake:
            try:
                call.token.run_sync_soon(self._finish_calls)
            except Exception:  # that trio run is over: nobody waits any more
                with self._lock:
                    self._finished.clear()
                    self._trio_woken = False

    def _finish_calls(self) -> None:  # in trio
        with self._lock:
            finished, self._finished = self._finished, deque()
            self._trio_woken = False
        for call in finished:
            call.done.set()

    def _cancel(self, call: Call) -> None:  # in the loop
        if call.task is not None:
            call.task.cancel()

    def stop(self) -> None:
        """Stop the loop and its thread (waits up to 5 seconds for it)."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()
