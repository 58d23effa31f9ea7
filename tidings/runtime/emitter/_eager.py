"""Eager start of listeners: run a coroutine until it first suspends, as JavaScript runs an async function.

A listener that finishes without suspending costs one `send(None)` and no task. One that suspends
keeps running in the task that started it (its cancel scopes and locks belong to that task), and
whatever still has to start goes on in a helper task (`Helper`), so every listener starts in order
and all run concurrently.
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections.abc import Awaitable, Callable, Generator
from contextvars import Context
from typing import Any

import anyio
import sniffio

Suspended = tuple[Any, Any]
"""A started awaitable and the value it yielded to the event loop when it suspended."""

COROUTINE = types.CoroutineType


def start(result: object) -> Suspended | None:
    """Run what a listener returned until it suspends: None if it is done, else (iterator, yielded).

    A plain return value (a sync listener) is done at once. Exceptions the listener raises
    propagate to the caller.
    """
    if type(result) is COROUTINE:
        for yielded in result.__await__():  # a for loop: no StopIteration raised (and paid for)
            return result, yielded  # when it finishes, unlike `send(None)`
        return None
    if result is None or not hasattr(result, "__await__"):
        return None
    step = result.__await__()
    try:
        return step, step.send(None)
    except StopIteration:
        return None


def call(listener: Callable[[Any], object], arg: Any) -> Awaitable[Any] | None:
    """Call `listener(arg)`: what it returned if that is awaitable (the caller awaits it), else
    None (a sync listener's plain return value is dropped). Not a coroutine itself, so a sync
    listener costs no coroutine."""
    result = listener(arg)
    if result is not None and (type(result) is COROUTINE or hasattr(result, "__await__")):
        return result
    return None


@types.coroutine
def resume(suspended: Suspended, ctx: Context) -> Generator[Any, Any, Any]:
    """Drive a suspended awaitable to the end in the current task (the task that started it),
    each step in `ctx` (the context it started in)."""
    step, value = suspended
    run = ctx.run
    while True:
        try:
            sent = yield value
        except GeneratorExit:
            step.close()
            raise
        except BaseException as exc:  # cancellation and friends are the listener's to handle
            try:
                value = run(step.throw, exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                value = run(step.send, sent)
            except StopIteration as stop:
                return stop.value


_background: set[asyncio.Task[None]] = set()


class Helper:
    """A task that runs `fn(*args)` beside the caller, which must `join()` it (structured by hand).

    It is spawned without a task group (none may be entered while a listener is suspended in
    the caller's task): a system task on trio, a plain task on asyncio. It runs in a copy of
    the caller's context, inside a cancel scope that `join()` cancels if the caller is cancelled.
    """

    __slots__ = ("_done", "_error", "_scope")

    def __init__(self, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        self._scope = anyio.CancelScope()
        self._done = anyio.Event()
        self._error: BaseException | None = None
        if sniffio.current_async_library() == "trio":
            import trio

            trio.lowlevel.spawn_system_task(
                self._run, fn, args, context=contextvars.copy_context()
            )
        else:
            task = asyncio.get_running_loop().create_task(self._run(fn, args))
            _background.add(task)
            task.add_done_callback(_background.discard)

    async def _run(self, fn: Callable[..., Awaitable[None]], args: tuple[Any, ...]) -> None:
        try:
            with self._scope:
                await fn(*args)
        except BaseException as exc:  # handed to join(); a system task must never raise
            self._error = exc
        finally:
            self._done.set()

    async def join(self, cancel: bool = False) -> None:
        """Wait for the helper; cancel it first if `cancel` or if the waiting is cancelled."""
        if cancel:
            self._scope.cancel()
        try:
            await self._done.wait()
        except BaseException:
            self._scope.cancel()
            with anyio.CancelScope(shield=True):
                await self._done.wait()
            raise
        if self._error is not None:
            raise self._error

