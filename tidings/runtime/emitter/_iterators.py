"""What `once()` and `events()` return: a pending first match, and an async iterator with its
own FIFO buffer. Both are subscribed from the moment they are made."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from typing import Any, Generic, Self, TypeVar

import anyio

from tidings.runtime._event import Event
from tidings.runtime.emitter._names import Listener

T_co = TypeVar("T_co", covariant=True)


class Once(Generic[T_co]):
    """The pending result of `once()`: already subscribed; await it for the event, or `off()` it."""

    __slots__ = ("_awaiters", "_done", "_off", "_predicate", "_result")

    def __init__(self, subscribe: Callable[[Listener], Callable[[], None]],
                 predicate: Callable[[Any], object] | None) -> None:
        self._predicate = predicate
        self._result: Any = None
        self._done: anyio.Event | None = None
        self._awaiters = 0
        self._off = subscribe(self._listener)

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
    """An async iterator with its own FIFO buffer, subscribed from creation until `aclose()`.

    `names` are the names it takes (None: every non-meta event); the emitter calls `put` and
    `finish`; `unsubscribe` (given by the emitter) is called once, by `aclose()`.
    """

    __slots__ = ("__weakref__", "_buffer", "_closed", "_finished", "_unsubscribe", "_wakeup", "names")

    def __init__(self, names: tuple[str, ...] | None,
                 unsubscribe: Callable[[EventIterator[Any]], None]) -> None:
        self.names = names
        self._unsubscribe = unsubscribe
        self._buffer: deque[Any] = deque()
        self._finished = False
        self._closed = False
        self._wakeup: anyio.Event | None = None

    def put(self, event: Event[Any]) -> None:
        """Buffer `event` (unless closed) and wake a waiting consumer."""
        if not self._closed:
            self._buffer.append(event)
            self._wake()

    def finish(self) -> None:
        """No more events: the consumer takes what is buffered, then the iteration ends."""
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
            self._unsubscribe(self)
            self._wake()
