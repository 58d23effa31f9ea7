"""`Emittery`: Emittery 2.x in Python, on anyio, with the three subscriber modes (sync, async,
serial). The API lives here; the dispatch path is the `Dispatcher` it drives."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from contextvars import copy_context
from types import TracebackType
from typing import Any, ClassVar, Final, Self

import anyio

from tidings.runtime._event import Event
from tidings.runtime.emitter._dispatch import DONE, At, Dispatcher, Subscription
from tidings.runtime.emitter._eager import COROUTINE, start
from tidings.runtime.emitter._iterators import EventIterator, Once
from tidings.runtime.emitter._names import (
    LISTENER_ADDED,
    LISTENER_REMOVED,
    DebugOptions,
    Listener,
    ListenerChange,
    MetaEvent,
    Mode,
    check_listener,
    check_mode,
    event_names,
    log,
)

_METHODS: Final = (
    "on", "off", "once", "events", "emit", "emit_serial", "on_any", "off_any", "any_event",
    "clear_listeners", "listener_count", "init", "bind_methods",
)


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
        self.dispatcher = Dispatcher(debug if debug is not None else DebugOptions(), Emittery)
        """Who listens and how an event reaches them (shared with subclasses such as `EventBus`)."""
        self._inits: dict[str, Callable[[], Callable[[], object] | None]] = {}
        self._teardowns: dict[str, Callable[[], object] | None] = {}

    @property
    def debug(self) -> DebugOptions:
        """This emitter's debug options (`debug.enabled` may be toggled at run time)."""
        return self.dispatcher.debug

    @debug.setter
    def debug(self, options: DebugOptions) -> None:
        self.dispatcher.debug = options

    # -- emitting ------------------------------------------------------------------------------

    async def emit(self, name: str, data: Any = None, /) -> None:
        """Run every listener of `name`, then every `on_any` listener, concurrently; wait for the
        sync ones and queue the async/serial ones. Raises an ExceptionGroup of all listener errors."""
        event = Event(name, data)
        dispatcher = self.dispatcher
        subs = dispatcher.prepare(event, "emit")
        if subs:
            errors: list[Exception] = []
            ctx = copy_context()  # `dispatcher.run`, inlined: one coroutine less per emit
            at = At(0)
            starting = dispatcher.start_in_order(subs, event, errors, at)
            yielded = ctx.run(next, starting, DONE)
            if yielded is not DONE:
                await dispatcher.go_on(subs, at, (starting, yielded), ctx, event, errors)
            if errors:
                raise ExceptionGroup(f"{len(errors)} listener(s) of {name!r} failed", errors)

    async def emit_serial(self, name: str, data: Any = None, /) -> None:
        """Run the listeners one after another; the first error propagates as itself and stops the rest."""
        event = Event(name, data)
        dispatcher = self.dispatcher
        for sub in dispatcher.prepare(event, "emit_serial"):  # `run_serially`, inlined: one
            if not sub.active:  # coroutine less per emit
                continue
            if sub.queue is not None:
                dispatcher.enqueue(sub, event)
                continue
            result = sub.listener(event)
            if type(result) is COROUTINE or (result is not None and hasattr(result, "__await__")):
                await result

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """True between entering and leaving `async with emitter:`."""
        return self.dispatcher.task_group is not None

    async def __aenter__(self) -> Self:
        """Start the task group that runs async and serial subscribers."""
        if self.dispatcher.task_group is not None:
            raise RuntimeError("this emitter is already started")
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self.dispatcher.task_group = tg
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        """Drain pending async/serial deliveries (on a clean exit), then stop the task group."""
        dispatcher = self.dispatcher
        tg = dispatcher.task_group
        assert tg is not None
        try:
            if exc is None:
                await dispatcher.wait_idle()
            elif dispatcher.outstanding:
                log.warning("leaving the emitter on %r: %d pending deliveries cancelled",
                            exc, dispatcher.outstanding)
        finally:
            tg.cancel_scope.cancel()
            try:
                suppress = await tg.__aexit__(exc_type, exc, tb)
            finally:
                dispatcher.reset()
        return suppress

    # -- subscribing ---------------------------------------------------------------------------

    def on(
        self, names: str | Sequence[str], listener: Listener, /, *, mode: Mode = "sync"
    ) -> Callable[[], None]:
        """Subscribe `listener` to one or more names; returns an idempotent unsubscribe callable.

        The same listener twice on one name is one subscription (a different `mode` is a ValueError).
        """
        check_listener(listener)
        check_mode(mode)
        names = event_names(names)
        listeners = self.dispatcher.listeners
        for name in names:
            for sub in listeners.get(name, ()):
                if sub.listener == listener and sub.mode != mode:
                    raise ValueError(f"{listener!r} is already subscribed to {name!r} in {sub.mode} mode")
        for name in names:
            current = listeners.get(name, ())
            if any(sub.listener == listener for sub in current):
                continue
            listeners[name] = (*current, self._new_sub(listener, mode))
            self._log("subscribe", name)
            self._maybe_init(name)
            if not isinstance(name, MetaEvent):
                self._meta(LISTENER_ADDED, ListenerChange(name, listener))

        def off() -> None:
            self.off(names, listener)

        return off

    def off(self, names: str | Sequence[str], listener: Listener, /) -> None:
        """Remove `listener` from one or more names; it is not called even by emits in flight."""
        check_listener(listener)
        listeners = self.dispatcher.listeners
        for name in event_names(names):
            current = listeners.get(name, ())
            kept = tuple(sub for sub in current if sub.listener != listener)
            if len(kept) == len(current):
                continue
            for sub in current:
                if sub.listener == listener:
                    self._drop_sub(sub)
            if kept:
                listeners[name] = kept
            else:
                del listeners[name]
            self._log("unsubscribe", name)
            self._maybe_teardown(name)
            if not isinstance(name, MetaEvent):
                self._meta(LISTENER_REMOVED, ListenerChange(name, listener))

    def on_any(self, listener: Listener, /, *, mode: Mode = "sync") -> Callable[[], None]:
        """Subscribe to every (non-meta) event, after the name's own listeners; returns an unsubscribe."""
        check_listener(listener)
        check_mode(mode)
        dispatcher = self.dispatcher
        if not any(sub.listener == listener for sub in dispatcher.any):
            dispatcher.any = (*dispatcher.any, self._new_sub(listener, mode))
            self._log("subscribe_any", None)
            self._meta(LISTENER_ADDED, ListenerChange(None, listener))

        def off_any() -> None:
            self.off_any(listener)

        return off_any

    def off_any(self, listener: Listener, /) -> None:
        """Remove an `on_any` subscription."""
        check_listener(listener)
        dispatcher = self.dispatcher
        kept = tuple(sub for sub in dispatcher.any if sub.listener != listener)
        if len(kept) != len(dispatcher.any):
            for sub in dispatcher.any:
                if sub.listener == listener:
                    self._drop_sub(sub)
            dispatcher.any = kept
            self._log("unsubscribe_any", None)
            self._meta(LISTENER_REMOVED, ListenerChange(None, listener))

    def once(
        self, names: str | Sequence[str], /, predicate: Callable[[Any], object] | None = None
    ) -> Once[Event[Any]]:
        """Subscribe now; awaiting the result gives the first Event for which `predicate` (by
        position or keyword) is truthy. Cancelling the wait (or calling `.off()`) unsubscribes."""
        if predicate is not None:
            check_listener(predicate, "predicate")
        selected = event_names(names)
        return Once(lambda listener: self.on(selected, listener), predicate)

    def events(self, names: str | Sequence[str], /) -> EventIterator[Event[Any]]:
        """An async iterator over the names' events, buffered from this call on; `aclose()` ends it."""
        names = event_names(names)
        iterator: EventIterator[Event[Any]] = EventIterator(names, self._remove_iterator)
        for name in names:
            self.dispatcher.iterators.setdefault(name, []).append(iterator)
        return iterator

    def any_event(self) -> EventIterator[Event[Any]]:
        """An async iterator over every (non-meta) event, buffered from this call on."""
        iterator: EventIterator[Event[Any]] = EventIterator(None, self._remove_iterator)
        self.dispatcher.any_iterators.append(iterator)
        return iterator

    def clear_listeners(self, names: str | Sequence[str] | None = None, /) -> None:
        """Remove the names' listeners (all listeners, any-listeners included, when None); their
        iterators yield what they buffered, then end."""
        dispatcher = self.dispatcher
        if names is None:
            self._log("clear", None)
            for sub in dispatcher.any:
                self._drop_sub(sub)
            dispatcher.any = ()
            for iterator in dispatcher.any_iterators:
                iterator.finish()
            dispatcher.any_iterators = []
            selected: Iterable[str] = list({*dispatcher.listeners, *dispatcher.iterators})
        else:
            selected = event_names(names)
            for name in selected:
                self._log("clear", name)
        for name in selected:
            for sub in dispatcher.listeners.pop(name, ()):
                self._drop_sub(sub)
            for iterator in dispatcher.iterators.pop(name, ()):
                iterator.finish()
            self._maybe_teardown(name)

    def listener_count(self, names: str | Sequence[str] | None = None, /) -> int:
        """Listeners and iterators of the names (of all names when None), plus every any-listener and
        any-iterator (counted once per name)."""
        d = self.dispatcher
        anys = len(d.any) + len(d.any_iterators)
        if names is None:
            return anys + sum(map(len, d.listeners.values())) + sum(map(len, d.iterators.values()))
        return sum(
            anys + len(d.listeners.get(n, ())) + len(d.iterators.get(n, ())) for n in event_names(names)
        )

    def init(
        self, name: str, fn: Callable[[], Callable[[], object] | None], /
    ) -> Callable[[], None]:
        """Run `fn()` when `name` gets its first `.on()` listener (at once if it has one); the
        teardown it returns runs when the last one leaves. `events()`/`any_event()` iterators
        neither set up nor tear down. One init per name. Returns an idempotent remover: it
        forgets `fn` and runs the teardown if the set-up is active."""
        if not isinstance(name, str):
            raise TypeError(f"event name must be a str, got {name!r}")
        check_listener(fn, "init function")
        if name in self._inits:
            raise ValueError(f"{name!r} already has an init function")
        self._inits[name] = fn
        self._maybe_init(name)

        def remove() -> None:
            if self._inits.get(name) is not fn:
                return
            del self._inits[name]
            if name in self._teardowns:
                teardown = self._teardowns.pop(name)
                if teardown is not None:
                    teardown()

        return remove

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

    # -- helpers -------------------------------------------------------------------------------

    def _new_sub(self, listener: Listener, mode: Mode) -> Subscription:
        if mode != "sync":
            self.dispatcher.background += 1
        return Subscription(listener, mode, self.dispatcher.queue_for(listener, mode))

    def _drop_sub(self, sub: Subscription) -> None:
        sub.active = False
        if sub.mode != "sync":
            self.dispatcher.background -= 1

    def _log(self, kind: str, name: str | None) -> None:
        if (self.debug.enabled or Emittery.is_debug_enabled) and not isinstance(name, MetaEvent):
            self.debug.logger(kind, self.debug.name, name, None)

    def _meta(self, name: str, change: ListenerChange) -> None:
        # Meta listeners run inside on()/off(), which are not async: they must not suspend.
        event = Event(name, change)
        dispatcher = self.dispatcher
        dispatcher.feed(event, dispatcher.iterators.get(name, ()), ())
        for sub in dispatcher.listeners.get(name, ()):
            try:
                if sub.queue is not None and dispatcher.task_group is not None:
                    dispatcher.enqueue(sub, event)
                elif (suspended := start(sub.listener(event))) is not None:
                    suspended[0].close()
                    raise RuntimeError(
                        f"a {name} listener suspended; meta listeners run inside on()/off() and "
                        "must not await (subscribe it with mode='async' on a started emitter)"
                    )
            except Exception as exc:
                log.error("%s listener %r failed", name, sub.listener, exc_info=exc)

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
        return bool(self.dispatcher.listeners.get(name))

    def _remove_iterator(self, iterator: EventIterator[Any]) -> None:
        dispatcher = self.dispatcher
        if iterator.names is None:
            if iterator in dispatcher.any_iterators:
                dispatcher.any_iterators.remove(iterator)
            return
        for name in iterator.names:
            current = dispatcher.iterators.get(name)
            if current and iterator in current:
                current.remove(iterator)
                if not current:
                    del dispatcher.iterators[name]
