"""The dispatch path of an event, on one screen: who listens (the subscriptions), how `emit`
starts them in order and lets them run concurrently, and the background queues that run async
and serial subscribers. `Emittery` and `EventBus` both drive a `Dispatcher`."""

from __future__ import annotations

import types
from collections import deque
from collections.abc import Generator, Iterable
from contextvars import Context, copy_context
from typing import TYPE_CHECKING, Any, Final

import anyio
from anyio.abc import TaskGroup

from tidings.runtime._event import Event
from tidings.runtime.emitter._eager import COROUTINE, Helper, Suspended, resume, start
from tidings.runtime.emitter._names import DebugOptions, Listener, MetaEvent, Mode, log

if TYPE_CHECKING:
    from tidings.runtime.emitter._iterators import EventIterator

MAX_IDLE: Final = 1024
"""Parked workers kept per async queue."""


class Subscription:
    """One listener on one name (or on any name), in one mode; `queue` runs it in the background."""

    __slots__ = ("active", "listener", "mode", "queue")

    def __init__(self, listener: Listener, mode: Mode, queue: Queue | None) -> None:
        self.listener = listener
        self.mode = mode
        self.active = True
        self.queue = queue


class Queue:
    """A FIFO of deliveries and the background workers that drain it (one for serial mode)."""

    __slots__ = ("idle", "items", "ready", "serial")

    def __init__(self, serial: bool) -> None:
        self.items: deque[tuple[Subscription, Event[Any], Context]] = deque()
        self.serial = serial
        self.ready = 0  # workers taking items (not parked, not blocked inside a delivery)
        self.idle: list[anyio.Event] = []  # parked workers, each woken by its own event


def _begin(listener: Listener, event: Event[Any]) -> Suspended | None:
    return start(listener(event))


DONE: Final = object()
"""What `next` returns for a finished `Dispatcher.start_in_order`."""


class At:
    """How far one `Dispatcher.start_in_order` got: the subscription it is at, and whether that
    one suspended (then the rest start elsewhere)."""

    __slots__ = ("index", "suspended")

    def __init__(self, index: int) -> None:
        self.index = index
        self.suspended = False


class Dispatcher:
    """The subscriptions of one emitter and the machinery that delivers events to them.

    `listeners`/`any` are snapshotted per emit (tuples replaced, never mutated); `task_group`
    (None until started) runs the background queues; `outstanding` counts queued and running
    background deliveries (and those run outside the queues, between `hold` and `release`).
    `debug_everywhere` is the class whose `is_debug_enabled` turns debug logging on for all.
    """

    def __init__(self, debug: DebugOptions, debug_everywhere: Any) -> None:
        self.debug = debug
        self.debug_everywhere = debug_everywhere
        self.listeners: dict[str, tuple[Subscription, ...]] = {}
        self.any: tuple[Subscription, ...] = ()
        self.iterators: dict[str, list[EventIterator[Any]]] = {}
        self.any_iterators: list[EventIterator[Any]] = []
        self.background = 0  # active async/serial subscriptions
        self.serial: dict[Listener, Queue] = {}
        self.async_queue = Queue(serial=False)
        self.task_group: TaskGroup | None = None
        self.outstanding = 0
        self._drained: anyio.Event | None = None

    # -- the path of one emit ------------------------------------------------------------------

    def prepare(self, event: Event[Any], kind: str) -> tuple[Subscription, ...]:
        """Check the name and the snapshot (a refused emit delivers nothing), log, feed the
        iterators; return the subscriptions to run."""
        name = event.name
        if type(name) is not str:
            if not isinstance(name, str):
                raise TypeError(f"event name must be a str, got {name!r}")
            if isinstance(name, MetaEvent):
                raise TypeError(f"{name} is a meta event: only the emitter emits it")
        subs = self.listeners.get(name, ()) + self.any
        if self.background and self.task_group is None and any(s.queue is not None for s in subs):
            raise RuntimeError(
                f"{name!r} has async or serial listeners, which run in the emitter's task group: "
                "start the emitter first with `async with emitter:` (or `async with Emittery() as bus:`)"
            )
        if self.debug.enabled or self.debug_everywhere.is_debug_enabled:
            self.debug.logger(kind, self.debug.name, name, event.data)
        if self.iterators or self.any_iterators:
            self.feed(event, self.iterators.get(name, ()), self.any_iterators)
        return subs

    async def run(
        self, subs: tuple[Subscription, ...], first: int, event: Event[Any], errors: list[Exception]
    ) -> None:
        """Start subs[first:] in order in a copy of the caller's context (what they set does not
        leak back); the first that suspends goes on in this task, the rest in a helper task, so
        all start in order and run concurrently. Listener errors go to `errors`."""
        ctx = copy_context()
        at = At(first)
        starting = self.start_in_order(subs, event, errors, at)
        yielded = ctx.run(next, starting, DONE)
        if yielded is not DONE:
            await self.go_on(subs, at, (starting, yielded), ctx, event, errors)

    async def go_on(
        self, subs: tuple[Subscription, ...], at: At, suspended: Suspended, ctx: Context,
        event: Event[Any], errors: list[Exception],
    ) -> None:
        """Drive subs[at.index] (suspended) here while a helper task starts the rest; join both."""
        at.suspended = True
        i = at.index
        helper = Helper(self.run, subs, i + 1, event, errors) if i + 1 < len(subs) else None
        try:
            await resume(suspended, ctx)
        except Exception as exc:
            errors.append(exc)
        except BaseException:
            if helper is not None:
                await helper.join(cancel=True)
            raise
        if helper is not None:
            await helper.join()

    @types.coroutine
    def start_in_order(
        self, subs: tuple[Subscription, ...], event: Event[Any], errors: list[Exception], at: At
    ) -> Generator[Any, Any, None]:
        """Start subs[at.index:] in order (queue the background ones), each run to its end by
        `yield from`, which steps it without a StopIteration per listener; the caller steps this
        with `next`, so a yield means subs[at.index] suspended: the caller sets `at.suspended`,
        starts the rest elsewhere, and this stops when that one ends."""
        for i in range(at.index, len(subs)):
            sub = subs[i]
            if not sub.active:
                continue
            if sub.queue is not None:
                self.enqueue(sub, event)
                continue
            at.index = i
            try:
                result = sub.listener(event)
                if type(result) is COROUTINE:
                    yield from result  # type: ignore[misc]  # allowed: this is a types.coroutine
                elif result is not None and hasattr(result, "__await__"):
                    yield from result.__await__()
            except Exception as exc:
                errors.append(exc)
            if at.suspended:
                return

    async def run_serially(self, subs: tuple[Subscription, ...], event: Event[Any]) -> None:
        """`emit_serial`: one after another; the first error propagates and stops the rest."""
        for sub in subs:
            if not sub.active:
                continue
            if sub.queue is not None:
                self.enqueue(sub, event)
                continue
            result = sub.listener(event)  # `call`, inlined: a function call per listener costs
            # emit_serial about a fifth of its time
            if type(result) is COROUTINE or (result is not None and hasattr(result, "__await__")):
                await result

    # -- background queues ---------------------------------------------------------------------

    def enqueue(self, sub: Subscription, event: Event[Any]) -> None:
        """Queue a background delivery (in a copy of the current context)."""
        queue = sub.queue
        assert queue is not None and self.task_group is not None
        queue.items.append((sub, event, copy_context()))
        self.outstanding += 1
        if not queue.ready:
            self._wake(queue)

    def _wake(self, queue: Queue) -> None:
        # Another worker for `queue`: a parked one if any, else a new task.
        queue.ready += 1
        if queue.idle:
            queue.idle.pop().set()
        else:
            assert self.task_group is not None
            self.task_group.start_soon(self._work, queue)

    async def _work(self, queue: Queue) -> None:
        # A background worker: drains `queue`, each delivery in the context `emit` had; on async
        # queues another worker takes over while this one waits inside a suspended delivery, so
        # deliveries overlap without a task each. Idle workers park (up to MAX_IDLE) rather
        # than end, so I/O-bound deliveries do not spawn a task each either.
        items = queue.items
        while True:
            while items:
                sub, event, ctx = items.popleft()
                try:  # a queued delivery was accepted: it runs even if its listener left since
                    suspended = ctx.run(_begin, sub.listener, event)
                    if suspended is not None and queue.serial:
                        await resume(suspended, ctx)
                    elif suspended is not None:
                        queue.ready -= 1
                        if items and not queue.ready:
                            self._wake(queue)
                        try:
                            await resume(suspended, ctx)
                        finally:
                            queue.ready += 1
                except Exception as exc:
                    log.error("%s listener %r failed on %r", sub.mode, sub.listener, event.name,
                              exc_info=exc)
                finally:
                    self.release()
            queue.ready -= 1
            if len(queue.idle) >= MAX_IDLE:
                return
            wakeup = anyio.Event()
            queue.idle.append(wakeup)
            try:
                await wakeup.wait()
            except BaseException:
                if wakeup in queue.idle:
                    queue.idle.remove(wakeup)
                raise

    def queue_for(self, listener: Listener, mode: Mode) -> Queue | None:
        """The queue a subscription of `listener` in `mode` runs on (None: sync)."""
        if mode == "sync":
            return None
        if mode == "async":
            return self.async_queue
        return self.serial.setdefault(listener, Queue(serial=True))

    def hold(self) -> None:
        """Count a background delivery run outside the queues (`wait_idle` waits for it)."""
        self.outstanding += 1

    def release(self) -> None:
        """A background delivery (queued or held) finished."""
        if self.outstanding:  # else one a stopped EventBus left running, ending after `reset`
            self.outstanding -= 1
        if not self.outstanding and self._drained is not None:
            self._drained.set()

    async def wait_idle(self) -> None:
        """Wait until no background delivery is queued or running."""
        while self.outstanding:
            self._drained = anyio.Event()
            await self._drained.wait()
        self._drained = None

    def take_queued(self) -> list[tuple[Subscription, Event[Any]]]:
        """Remove the deliveries still queued (their workers were cancelled) and return them."""
        taken = []
        for queue in (self.async_queue, *self.serial.values()):
            while queue.items:
                sub, event, _ = queue.items.popleft()
                taken.append((sub, event))
                self.outstanding -= 1
        return taken

    def reset(self) -> None:
        """Stopped: fresh queues for the next start; subscriptions keep their modes."""
        self.task_group = None
        self.async_queue = Queue(serial=False)
        self.serial = {}
        self.outstanding = 0
        self._drained = None
        for subs in (*self.listeners.values(), self.any):
            for sub in subs:
                if sub.queue is not None:
                    sub.queue = self.queue_for(sub.listener, sub.mode)

    def feed(self, event: Event[Any], named: Iterable[EventIterator[Any]],
             anys: Iterable[EventIterator[Any]]) -> None:
        """Buffer `event` in the iterators given."""
        for iterator in (*named, *anys):
            iterator.put(event)
