"""The consume loop every transport shares: fetch no more than can start, hand each message to
a bounded pool of workers, and keep trying (with a growing pause) while the broker is away."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import anyio

T = TypeVar("T")

FIRST_PAUSE = 0.1
"""Seconds before the first retry of a failed fetch (doubled after each failure)."""


async def consume_bounded(
    what: str, limit: int, batch: int, fetch: Callable[[int], Awaitable[Sequence[T]]],
    handle: Callable[[T], Awaitable[None]], *, max_pause: float, log: logging.Logger,
    stopping: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run until cancelled: `fetch(n)` at most `n` items (n <= `batch`, and never more than
    `limit` unsettled at once), and run `handle(item)` for each in a pool of at most `limit`
    workers (with `limit` 1, one at a time in fetch order). An error `handle` raises is logged;
    an error `fetch` raises is logged (`what` names the consumer) and the fetch is tried again
    after a pause growing from FIRST_PAUSE to `max_pause` seconds. When cancelled, `stopping()`
    runs (shielded) before the deliveries under way are waited for."""
    limit = max(1, limit)
    in_flight = 0
    room = anyio.Event()
    queue: deque[T] = deque()
    idle = 0
    ready: anyio.Event | None = None
    workers = 0

    async def run(item: T) -> None:
        nonlocal in_flight
        try:
            await handle(item)
        except Exception as exc:
            log.error("%s: handling a message failed: %r", what, exc)
        finally:
            in_flight -= 1
            room.set()

    async def worker() -> None:
        # A pool (grown up to `limit`) rather than a task per message.
        nonlocal idle, ready
        while True:
            while queue:
                await run(queue.popleft())
            idle += 1
            try:
                ready = ready or anyio.Event()
                await ready.wait()
            finally:
                idle -= 1

    pause = FIRST_PAUSE
    async with anyio.create_task_group() as tg:
        try:
            while True:
                while in_flight >= limit:
                    room = anyio.Event()
                    await room.wait()
                try:
                    items = await fetch(min(batch, limit - in_flight))
                    pause = FIRST_PAUSE
                except Exception as exc:
                    log.warning("%s: %s; trying again in %.1fs", what, exc, pause)
                    await anyio.sleep(pause)
                    pause = min(max_pause, pause * 2)
                    continue
                for item in items:
                    in_flight += 1
                    queue.append(item)
                    if idle and ready is not None:
                        ready.set()
                        ready = None
                    elif not idle and workers < limit:
                        workers += 1
                        tg.start_soon(worker)
        finally:
            if stopping is not None:
                with anyio.CancelScope(shield=True):
                    await stopping()
