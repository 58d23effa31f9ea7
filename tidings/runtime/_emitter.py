"""`Emittery`: Emittery 2.x in Python, on anyio, with the three subscriber modes (sync, async, serial)."""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Sequence
from contextvars import Context, ContextVar, copy_context
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Final, Generic, Literal, Self, TypeVar, get_args

import anyio
from anyio.abc import TaskGroup

from tidings.runtime._eager import COROUTINE as _COROUTINE
from tidings.runtime._eager import Helper, Suspended, resume, start
from tidings.runtime._event import Event

log = logging.getLogger("tidings")

current_event: ContextVar[Event[Any] | None] = ContextVar("tidings_current_event", default=None)
"""The message whose listener is running in this context, or None: `EventBus` sets it around
every delivery (sync, async and serial), which is how a message emitted by a handler finds its
cause. Plain `Emittery` leaves it alone (setting a context variable costs more than an emit)."""


def _begin(listener: Listener, event: Event[Any]) -> Suspended | None:
    return start(listener(event))

Mode = Literal["sync", "async", "serial"]
"""How a subscriber runs: `sync` is awaited by emit; `async` runs in the background; `serial`
runs in the background one event at a time, in emit order."""

Listener = Callable[[Any], object]
T_co = TypeVar("T_co", covariant=True)


class _MetaEvent(str):
    """A meta event name: equal only to itself, never to a plain string (like a JS Symbol)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    def __hash__(self) -> int:
        return id(self)


LISTENER_ADDED: Final[str] = _MetaEvent("listenerAdded")
"""Meta event emitted after a listener was added; its data is a `ListenerChange`."""
LISTENER_REMOVED: Final[str] = _MetaEvent("listenerRemoved")
"""Meta event emitted after a listener was removed; its data is a `ListenerChange`."""


@dataclass(frozen=True, slots=True)
class ListenerChange:
    """Data of `LISTENER_ADDED`/`LISTENER_REMOVED`: the name (None for on_any/off_any) and listener."""

    event_name: str | None
    listener: Listener


DebugLogger = Callable[[str, "str | None", "str | None", Any], None]


def _default_logger(kind: str, debug_name: str | None, event_name: str | None, data: Any) -> None:
    log.debug("[%s][%s] Event Name: %s data: %r", kind, debug_name, event_name, data)


@dataclass(slots=True)
class DebugOptions:
    """Emittery's debug options: `enabled` may be toggled at run time; `logger` is called as
    `logger(kind, name, event_name, data)` (the default writes to the stdlib logger `tidings`)."""

    name: str | None = None
    enabled: bool = False
    logger: DebugLogger = _default_logger


class _Sub:
    __slots__ = ("active", "listener", "mode", "queue")

    def __init__(self, listener: Listener, mode: Mode, queue: _Queue | None) -> None:
        self.listener = listener
        self.mode = mode
        self.active = True
        self.queue = queue


class _Queue:
    """A FIFO of deliveries and the background workers that drain it (one for serial mode)."""

    __slots__ = ("idle", "items", "ready", "serial")

    def __init__(self, serial: bool) -> None:
        self.items: deque[tuple[_Sub, Event[Any], Context]] = deque()
        self.serial = serial
        self.ready = 0  # workers taking items (not parked, not blocked inside a delivery)
        self.idle: list[anyio.Event] = []  # parked workers, each woken by its own event


_MODES: Final = frozenset(get_args(Mode))
_MAX_IDLE: Final = 1024  # parked workers kept per async queue
_METHODS: Final = (
    "on", "off", "once", "events", "emit", "emit_serial", "on_any", "off_any", "any_event",
    "clear_listeners", "listener_count", "init", "bind_methods",
)


def _names(names: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(names, str):
        return (names,)
    result = tuple(names) if isinstance(names, (list, tuple)) else None
    if result is None or not all(isinstance(n, str) for n in result):
        raise TypeError(f"event names must be str or a list of str, got {names!r}")
    return result


def _check_listener(listener: object, what: str = "listener") -> None:
    if not callable(listener):
        raise TypeError(f"{what} must be callable, got {listener!r}")


class Emittery:
    """An async event emitter with Emittery's API (snake_case) and the talk's three subscriber modes.

    `await emit(name, data)` runs the name's listeners, then the `on_any` listeners, all started
    in subscription order and running concurrently, and raises an ExceptionGroup of every
    listener error. Async and serial subscribers run in the emitter's own task group, so use
    `async with Emittery() as bus:`; leaving the block drains their pending deliveries.
    """

    is_debug_enabled: ClassVar[bool] = os.environ.get("DEBUG", "") in {"tidings", "*"}
    """Debug logging for every instance (default: the DEBUG env var is `tidings` or `*`)."""

    def __init__(self, *, debug: DebugOptions | None = None) -> None:
        self.debug = debug if debug is not None else DebugOptions()
        self._listeners: dict[str, tuple[_Sub, ...]] = {}
        self._any: tuple[_Sub, ...] = ()
        self._iterators: dict[str, list[EventIterator[Any]]] = {}
        self._any_iterators: list[EventIterator[Any]] = []
        self._inits: dict[str, Callable[[], Callable[[], object] | None]] = {}
        self._teardowns: dict[str, Callable[[], object] | None] = {}
        self._serial: dict[Listener, _Queue] = {}
        self._async = _Queue(serial=False)
        self._background_subs = 0
        self._tg: TaskGroup | None = None
        self._outstanding = 0
        self._drained: anyio.Event | None = None

    # -- the dispatch path -------------------------------------------------------------------

    async def emit(self, name: str, data: Any = None, /) -> None:
        """Run every listener of `name`, then every `on_any` listener, concurrently; wait for the
        sync ones and queue the async/serial ones. Raises an ExceptionGroup of all listener errors."""
        event = Event(name, data)
        subs = self._prepare(event, "emit")
        if subs:
            errors: list[Exception] = []
            ctx = copy_context()
            i, suspended = ctx.run(self._start_until_suspended, subs, 0, event, errors)
            if suspended is not None:
                await self._go_on(subs, i, suspended, ctx, event, errors)
            if errors:
                raise ExceptionGroup(f"{len(errors)} listener(s) of {name!r} failed", errors)

    async def emit_serial(self, name: str, data: Any = None, /) -> None:
        """Run the listeners one after another; the first error propagates as itself and stops the rest."""
        event = Event(name, data)
        await self._serially(self._prepare(event, "emit_serial"), event)

    async def _serially(self, subs: tuple[_Sub, ...], event: Event[Any]) -> None:
        for sub in subs:
            if sub.queue is None and sub.active:
                result = sub.listener(event)
                if result is None:
                    continue
                if type(result) is _COROUTINE or hasattr(result, "__await__"):
                    await result
            elif sub.active:
                self._enqueue(sub, event)

    def _prepare(self, event: Event[Any], kind: str) -> tuple[_Sub, ...]:
        # Check the name and the snapshot (a refused emit delivers nothing), log, feed the
        # iterators; return the listeners to run.
        name = event.name
        if type(name) is not str:
            if not isinstance(name, str):
                raise TypeError(f"event name must be a str, got {name!r}")
            if isinstance(name, _MetaEvent):
                raise TypeError(f"{name} is a meta event: only the emitter emits it")
        subs = self._listeners.get(name, ()) + self._any
        if self._background_subs and self._tg is None and any(s.queue is not None for s in subs):
            raise RuntimeError(
                f"{name!r} has async or serial listeners, which run in the emitter's task group: "
                "start the emitter first with `async with emitter:` (or `async with Emittery() as bus:`)"
            )
        if self.debug.enabled or Emittery.is_debug_enabled:
            self.debug.logger(kind, self.debug.name, name, event.data)
        if self._iterators or self._any_iterators:
            self._feed(event, self._iterators.get(name, ()), self._any_iterators)
        return subs

    async def _run(
        self, subs: tuple[_Sub, ...], first: int, event: Event[Any], errors: list[Exception]
    ) -> None:
        # Start subs[first:] in order in a copy of the publisher's context (what they set does not
        # leak back); the first that suspends goes on in this task, the rest in a helper task, so
        # all start in order and run concurrently.
        ctx = copy_context()
        i, suspended = ctx.run(self._start_until_suspended, subs, first, event, errors)
        if suspended is not None:
            await self._go_on(subs, i, suspended, ctx, event, errors)

    async def _go_on(
        self, subs: tuple[_Sub, ...], i: int, suspended: Suspended, ctx: Context, event: Event[Any],
        errors: list[Exception],
    ) -> None:
        helper = Helper(self._run, subs, i + 1, event, errors) if i + 1 < len(subs) else None
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

    def _start_until_suspended(
        self, subs: tuple[_Sub, ...], first: int, event: Event[Any], errors: list[Exception]
    ) -> tuple[int, Suspended | None]:
        for i in range(first, len(subs)):
            sub = subs[i]
            if not sub.active:
                continue
            if sub.queue is not None:
                self._enqueue(sub, event)
                continue
            try:
                result = sub.listener(event)
                if type(result) is _COROUTINE:
                    try:
                        return i, (result, result.send(None))
                    except StopIteration:
                        continue
                if result is not None and (suspended := start(result)) is not None:
                    return i, suspended
            except Exception as exc:
                errors.append(exc)
        return len(subs), None

    def _enqueue(self, sub: _Sub, event: Event[Any]) -> None:
        queue = sub.queue
        assert queue is not None and self._tg is not None
        queue.items.append((sub, event, copy_context()))
        self._outstanding += 1
        if not queue.ready:
            self._wake(queue)

    def _wake(self, queue: _Queue) -> None:
        # Another worker for `queue`: a parked one if any, else a new task.
        queue.ready += 1
        if queue.idle:
            queue.idle.pop().set()
        else:
            assert self._tg is not None
            self._tg.start_soon(self._work, queue)

    async def _work(self, queue: _Queue) -> None:
        # A background worker: drains `queue`, each delivery in the context `emit` had; on async
        # queues another worker takes over while this one waits inside a suspended delivery, so
        # deliveries overlap without a task each. Idle workers park (up to _MAX_IDLE) rather
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
                    self._outstanding -= 1
                    if not self._outstanding and self._drained is not None:
                        self._drained.set()
            queue.ready -= 1
            if len(queue.idle) >= _MAX_IDLE:
                return
            wakeup = anyio.Event()
            queue.idle.append(wakeup)
            try:
                await wakeup.wait()
            except BaseException:
                if wakeup in queue.idle:
                    queue.idle.remove(wakeup)
                raise

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        """Start the task group that runs async and serial subscribers."""
        if self._tg is not None:
            raise RuntimeError("this emitter is already started")
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg = tg
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        """Drain pending async/serial deliveries (on a clean exit), then stop the task group."""
        tg = self._tg
        assert tg is not None
        try:
            if exc is None:
                while self._outstanding:
                    self._drained = anyio.Event()
                    await self._drained.wait()
            elif self._outstanding:
                log.warning("leaving the emitter on %r: %d pending deliveries cancelled",
                            exc, self._outstanding)
        finally:
            self._drained = None
            tg.cancel_scope.cancel()
            try:
                suppress = await tg.__aexit__(exc_type, exc, tb)
            finally:
                self._reset_queues()
        return suppress

    def _reset_queues(self) -> None:
        self._tg = None
        self._async = _Queue(serial=False)
        self._serial = {}
        self._outstanding = 0
        for subs in (*self._listeners.values(), self._any):
            for sub in subs:
                if sub.queue is not None:
                    sub.queue = self._queue_for(sub.listener, sub.mode)

    def _queue_for(self, listener: Listener, mode: Mode) -> _Queue | None:
        if mode == "sync":
            return None
        if mode == "async":
            return self._async
        return self._serial.setdefault(listener, _Queue(serial=True))

    # -- subscribing -------------------------------------------------------------------------

    def on(
        self, names: str | Sequence[str], listener: Listener, /, *, mode: Mode = "sync"
    ) -> Callable[[], None]:
        """Subscribe `listener` to one or more names; returns an idempotent unsubscribe callable.

        The same listener twice on one name is one subscription (a different `mode` is a ValueError).
        """
        _check_listener(listener)
        if mode not in _MODES:
            raise ValueError(f"mode must be one of 'sync', 'async', 'serial', got {mode!r}")
        names = _names(names)
        for name in names:
            for sub in self._listeners.get(name, ()):
                if sub.listener == listener and sub.mode != mode:
                    raise ValueError(f"{listener!r} is already subscribed to {name!r} in {sub.mode} mode")
        for name in names:
            current = self._listeners.get(name, ())
            if any(sub.listener == listener for sub in current):
                continue
            self._listeners[name] = (*current, self._new_sub(listener, mode))
            self._log("subscribe", name)
            self._maybe_init(name)
            if not isinstance(name, _MetaEvent):
                self._meta(LISTENER_ADDED, ListenerChange(name, listener))

        def off() -> None:
            self.off(names, listener)

        return off

    def off(self, names: str | Sequence[str], listener: Listener, /) -> None:
        """Remove `listener` from one or more names; it is not called even by emits in flight."""
        _check_listener(listener)
        for name in _names(names):
            current = self._listeners.get(name, ())
            kept = tuple(sub for sub in current if sub.listener != listener)
            if len(kept) == len(current):
                continue
            for sub in current:
                if sub.listener == listener:
                    self._drop_sub(sub)
            if kept:
                self._listeners[name] = kept
            else:
                del self._listeners[name]
            self._log("unsubscribe", name)
            self._maybe_teardown(name)
            if not isinstance(name, _MetaEvent):
                self._meta(LISTENER_REMOVED, ListenerChange(name, listener))

    def on_any(self, listener: Listener, /, *, mode: Mode = "sync") -> Callable[[], None]:
        """Subscribe to every (non-meta) event, after the name's own listeners; returns an unsubscribe."""
        _check_listener(listener)
        if mode not in _MODES:
            raise ValueError(f"mode must be one of 'sync', 'async', 'serial', got {mode!r}")
        if not any(sub.listener == listener for sub in self._any):
            self._any = (*self._any, self._new_sub(listener, mode))
            self._log("subscribe_any", None)
            self._meta(LISTENER_ADDED, ListenerChange(None, listener))

        def off_any() -> None:
            self.off_any(listener)

        return off_any

    def off_any(self, listener: Listener, /) -> None:
        """Remove an `on_any` subscription."""
        _check_listener(listener)
        kept = tuple(sub for sub in self._any if sub.listener != listener)
        if len(kept) != len(self._any):
            for sub in self._any:
                if sub.listener == listener:
                    self._drop_sub(sub)
            self._any = kept
            self._log("unsubscribe_any", None)
            self._meta(LISTENER_REMOVED, ListenerChange(None, listener))

    def once(
        self, names: str | Sequence[str], predicate: Callable[[Any], object] | None = None, /
    ) -> Once[Event[Any]]:
        """Subscribe now; awaiting the result gives the first matching Event. Cancelling the wait
        (or calling `.off()`) unsubscribes."""
        if predicate is not None:
            _check_listener(predicate, "predicate")
        return Once(self, _names(names), predicate)

    def events(self, names: str | Sequence[str], /) -> EventIterator[Event[Any]]:
        """An async iterator over the names' events, buffered from this call on; `aclose()` ends it."""
        names = _names(names)
        iterator: EventIterator[Event[Any]] = EventIterator(self, names)
        for name in names:
            self._iterators.setdefault(name, []).append(iterator)
            self._maybe_init(name)
        return iterator

    def any_event(self) -> EventIterator[Event[Any]]:
        """An async iterator over every (non-meta) event, buffered from this call on."""
        iterator: EventIterator[Event[Any]] = EventIterator(self, None)
        self._any_iterators.append(iterator)
        return iterator

    def clear_listeners(self, names: str | Sequence[str] | None = None, /) -> None:
        """Remove the names' listeners (all listeners, any-listeners included, when None); their
        iterators yield what they buffered, then end."""
        if names is None:
            self._log("clear", None)
            for sub in self._any:
                self._drop_sub(sub)
            self._any = ()
            for iterator in self._any_iterators:
                iterator._finish()
            self._any_iterators = []
            selected: Iterable[str] = list({*self._listeners, *self._iterators})
        else:
            selected = _names(names)
            for name in selected:
                self._log("clear", name)
        for name in selected:
            for sub in self._listeners.pop(name, ()):
                self._drop_sub(sub)
            for iterator in self._iterators.pop(name, ()):
                iterator._finish()
            self._maybe_teardown(name)

    def listener_count(self, names: str | Sequence[str] | None = None, /) -> int:
        """Listeners and iterators of the names (of all names when None), plus every any-listener and
        any-iterator (counted once per name)."""
        anys = len(self._any) + len(self._any_iterators)
        if names is None:
            return anys + sum(map(len, self._listeners.values())) + sum(map(len, self._iterators.values()))
        return sum(
            anys + len(self._listeners.get(n, ())) + len(self._iterators.get(n, ())) for n in _names(names)
        )

    def init(self, name: str, fn: Callable[[], Callable[[], object] | None], /) -> None:
        """Run `fn()` when `name` gets its first listener or iterator (at once if it has one); the
        teardown it returns runs when the last one leaves. One init per name."""
        if not isinstance(name, str):
            raise TypeError(f"event name must be a str, got {name!r}")
        _check_listener(fn, "init function")
        if name in self._inits:
            raise ValueError(f"{name!r} already has an init function")
        self._inits[name] = fn
        self._maybe_init(name)

    def bind_methods(self, target: object, method_names: Iterable[str] | None = None, /) -> None:
        """Set this emitter's methods (all of them by default) as attributes of `target`."""
        selected = list(_METHODS if method_names is None else method_names)
        for method in selected:
            if method not in _METHODS:
                raise ValueError(f"{method!r} is not an Emittery method; use one of {', '.join(_METHODS)}")
            if hasattr(target, method):
                raise ValueError(f"the attribute {method!r} already exists on {target!r}")
        for method in selected:
            setattr(target, method, getattr(self, method))

    # -- helpers -----------------------------------------------------------------------------

    def _new_sub(self, listener: Listener, mode: Mode) -> _Sub:
        if mode != "sync":
            self._background_subs += 1
        return _Sub(listener, mode, self._queue_for(listener, mode))

    def _drop_sub(self, sub: _Sub) -> None:
        sub.active = False
        if sub.mode != "sync":
            self._background_subs -= 1

    def _log(self, kind: str, name: str | None) -> None:
        if (self.debug.enabled or Emittery.is_debug_enabled) and not isinstance(name, _MetaEvent):
            self.debug.logger(kind, self.debug.name, name, None)

    def _meta(self, name: str, change: ListenerChange) -> None:
        # Meta listeners run inside on()/off(), which are not async: they must not suspend.
        event = Event(name, change)
        self._feed(event, self._iterators.get(name, ()), ())
        for sub in self._listeners.get(name, ()):
            try:
                if sub.queue is not None and self._tg is not None:
                    self._enqueue(sub, event)
                elif (suspended := start(sub.listener(event))) is not None:
                    suspended[0].close()
                    raise RuntimeError(
                        f"a {name} listener suspended; meta listeners run inside on()/off() and "
                        "must not await (subscribe it with mode='async' on a started emitter)"
                    )
            except Exception as exc:
                log.error("%s listener %r failed", name, sub.listener, exc_info=exc)

    def _feed(self, event: Event[Any], named: Iterable[EventIterator[Any]],
              anys: Iterable[EventIterator[Any]]) -> None:
        for iterator in (*named, *anys):
            iterator._put(event)

    def _maybe_init(self, name: str) -> None:
        fn = self._inits.get(name)
        if fn is not None and name not in self._teardowns and self._has_own(name):
            self._teardowns[name] = fn()

    def _maybe_teardown(self, name: str) -> None:
        if name in self._teardowns and not self._has_own(name):
            teardown = self._teardowns.pop(name)
            if teardown is not None:
                teardown()

    def _has_own(self, name: str) -> bool:
        return bool(self._listeners.get(name) or self._iterators.get(name))

    def _remove_iterator(self, iterator: EventIterator[Any]) -> None:
        if iterator._names is None:
            if iterator in self._any_iterators:
                self._any_iterators.remove(iterator)
            return
        for name in iterator._names:
            current = self._iterators.get(name)
            if current and iterator in current:
                current.remove(iterator)
                if not current:
                    del self._iterators[name]
                self._maybe_teardown(name)


class Once(Generic[T_co]):
    """The pending result of `once()`: already subscribed; await it for the event, or `off()` it."""

    __slots__ = ("_awaiters", "_done", "_emitter", "_names", "_off", "_predicate", "_result")

    def __init__(self, emitter: Emittery, names: tuple[str, ...],
                 predicate: Callable[[Any], object] | None) -> None:
        self._predicate = predicate
        self._result: Any = None
        self._done: anyio.Event | None = None
        self._awaiters = 0
        self._emitter = emitter
        self._names = names
        self._off = emitter.on(names, self._listener)

    def _listener(self, event: Event[Any]) -> None:
        if self._result is not None or (self._predicate is not None and not self._predicate(event)):
            return
        self._result = event
        self._off()
        if self._done is not None:
            self._done.set()

    def off(self) -> None:
        """Unsubscribe without waiting."""
        self._off()

    def __await__(self) -> Generator[Any, None, T_co]:
        return self._wait().__await__()

    async def _wait(self) -> T_co:
        if self._result is None:
            if self._done is None:  # several awaiters share one wakeup
                self._done = anyio.Event()
            self._awaiters += 1
            try:
                await self._done.wait()
            finally:
                self._awaiters -= 1
                if not self._awaiters:  # the last awaiter giving up unsubscribes
                    self._off()
        result: T_co = self._result
        return result


class EventIterator(Generic[T_co]):
    """An async iterator with its own FIFO buffer, subscribed from creation until `aclose()`."""

    __slots__ = ("__weakref__", "_buffer", "_closed", "_emitter", "_finished", "_names", "_wakeup")

    def __init__(self, emitter: Emittery, names: tuple[str, ...] | None) -> None:
        self._emitter = emitter
        self._names = names
        self._buffer: deque[Any] = deque()
        self._finished = False
        self._closed = False
        self._wakeup: anyio.Event | None = None

    def _put(self, event: Event[Any]) -> None:
        if not self._closed:
            self._buffer.append(event)
            self._wake()

    def _finish(self) -> None:
        self._finished = True
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()
            self._wakeup = None

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T_co:
        while not self._buffer:
            if self._finished or self._closed:
                raise StopAsyncIteration
            wakeup = self._wakeup
            if wakeup is None:  # consumers waiting together share one wakeup, used up by _wake
                wakeup = self._wakeup = anyio.Event()
            await wakeup.wait()
        item: T_co = self._buffer.popleft()
        return item

    async def aclose(self) -> None:
        """Unsubscribe and drop the buffer; the next `__anext__` raises StopAsyncIteration."""
        if not self._closed:
            self._closed = True
            self._buffer.clear()
            self._emitter._remove_iterator(self)
            self._wake()

