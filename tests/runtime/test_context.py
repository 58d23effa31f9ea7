"""Context variables across `emit` (DESIGN §4 is silent; this is what anyio/asyncio users expect).

Request-scoped context (structlog/OpenTelemetry bindings, a request id) lives in contextvars.
Two expectations, both met by a task per listener (anyio task groups, `asyncio.create_task`
copy the context at spawn) and by Emittery on Node (listeners run inside the emitting call's
AsyncLocalStorage context):
- every listener, in every mode, sees the publisher's context as it was when `emit` was called;
- what a listener of `emit` sets in its context does not leak back into the publisher's.
The eager start and the task-free background queues must keep both.
"""

from __future__ import annotations

import contextvars
from typing import Any

import anyio
import pytest

from tidings.runtime import Emittery, Event

pytestmark = pytest.mark.anyio

GUARD = 10  # deadlock guard only, never asserted on

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


async def test_listeners_of_every_mode_see_the_publishers_context_at_emit() -> None:
    seen: list[tuple[str, Any, str]] = []

    def make(tag: str, suspends: bool) -> Any:
        async def listener(event: Event[Any]) -> None:
            if suspends:
                await anyio.sleep(0)
            seen.append((tag, event.data, request_id.get()))

        return listener

    with anyio.fail_after(GUARD):
        async with Emittery() as bus:
            bus.on("go", make("sync-suspends", True))
            bus.on("go", make("sync", False))
            bus.on("go", make("sync-suspends-too", True))
            bus.on("go", make("async", True), mode="async")
            bus.on("go", make("serial", True), mode="serial")
            bus.on_any(make("any", True))

            async def publisher(i: int) -> None:
                request_id.set(f"request-{i}")
                await bus.emit("go", i)
                await anyio.sleep(0)

            async with anyio.create_task_group() as tg:
                for i in range(4):
                    tg.start_soon(publisher, i)
    wrong = [(tag, i, got) for tag, i, got in seen if got != f"request-{i}"]
    assert len(seen) == 6 * 4
    assert wrong == []


async def test_a_listener_setting_a_context_variable_does_not_leak_into_the_publisher() -> None:
    """`emit` runs its listeners concurrently, as tasks would (each in its own context copy).
    `emit_serial` is not covered: it awaits one listener after another, and an awaited
    coroutine shares its caller's context in Python."""
    bus = Emittery()

    def sets_at_once(event: Event[Any]) -> None:
        request_id.set("set by a sync listener")

    async def sets_then_suspends(event: Event[Any]) -> None:
        request_id.set("set by a suspending listener")
        await anyio.sleep(0)

    bus.on("go", sets_then_suspends)
    bus.on("go", sets_at_once)
    request_id.set("publisher")
    await bus.emit("go")
    assert request_id.get() == "publisher"

