"""`once`, `events`, `any_event`, `clear_listeners` and `listener_count` (DESIGN §4).

Python-specific decisions tested here: iterators subscribe when `events()` / `any_event()` is
called (they buffer and count from that moment); `aclose()` unsubscribes and `__anext__` then
raises StopAsyncIteration; `clear_listeners()` lets iterators drain their buffer and then end;
`listener_count(name)` counts the name's listeners and iterators plus every any-listener and
any-iterator; cancelling `once` unsubscribes. Ported cases come from sindresorhus/emittery.
"""

from __future__ import annotations

import contextlib
from typing import Any

import anyio
import pytest

from tidings.runtime import Emittery, Event

pytestmark = pytest.mark.anyio

GUARD = 10  # deadlock guard only, never asserted on


def noop(event: Event[Any]) -> None:
    return None


async def start_waiting(tg: anyio.abc.TaskGroup, coro_fn: Any, *args: Any) -> list[Any]:
    """Run `coro_fn(*args)` in `tg`, wait until it blocks, return the list its result lands in."""
    box: list[Any] = []

    async def run() -> None:
        box.append(await coro_fn(*args))

    tg.start_soon(run)
    await anyio.wait_all_tasks_blocked()
    return box


# --- once --------------------------------------------------------------------------------------


async def test_once_returns_the_first_event() -> None:
    bus = Emittery()
    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            box = await start_waiting(tg, bus.once, "🦄")
            assert bus.listener_count("🦄") == 1
            await bus.emit("🦄", "🌈")
            await bus.emit("🦄", "second")
    assert box == [Event("🦄", "🌈")]
    assert bus.listener_count("🦄") == 0


async def test_once_subscribes_when_called_like_emitterys_promise() -> None:
    """`once()` subscribes at call time (as Emittery's promise does), so an emit between the call
    and the `await` is not missed; `.off()` drops the subscription without waiting."""
    bus = Emittery()
    waiter = bus.once("🦄")
    assert bus.listener_count("🦄") == 1
    await bus.emit("🦄", "🌈")
    assert bus.listener_count("🦄") == 0
    with anyio.fail_after(GUARD):
        assert await waiter == Event("🦄", "🌈")
    dropped = bus.once("🐶")
    dropped.off()
    assert bus.listener_count("🐶") == 0


async def test_a_pending_once_awaited_by_two_tasks_resolves_both() -> None:
    """`once()` returns a subscribed awaitable "like Emittery's promise" (see the test above):
    like a promise (or an asyncio Future), every task awaiting it gets the event."""
    bus = Emittery()
    waiter = bus.once("🦄")
    got: list[tuple[int, Event[Any]]] = []

    async def wait(tag: int) -> None:
        got.append((tag, await waiter))

    with anyio.fail_after(5):  # a TimeoutError here means an awaiter was never woken
        async with anyio.create_task_group() as tg:
            tg.start_soon(wait, 1)
            tg.start_soon(wait, 2)
            await anyio.wait_all_tasks_blocked()
            await bus.emit("🦄", "🌈")
    assert sorted(got) == [(1, Event("🦄", "🌈")), (2, Event("🦄", "🌈"))]


async def test_one_awaiter_of_a_pending_once_giving_up_does_not_strand_the_others() -> None:
    """Cancelling the wait unsubscribes only when nobody else awaits the same `once()`."""
    bus = Emittery()
    waiter = bus.once("🦄")
    got: list[Event[Any]] = []
    gave_up = anyio.Event()

    async def impatient() -> None:
        with anyio.CancelScope() as scope:
            scope.cancel()
            await waiter
        gave_up.set()

    async def patient() -> None:
        got.append(await waiter)

    with anyio.fail_after(5):  # a TimeoutError here means the patient awaiter was stranded
        async with anyio.create_task_group() as tg:
            tg.start_soon(patient)
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(impatient)
            await gave_up.wait()
            assert bus.listener_count("🦄") == 1
            await bus.emit("🦄", "🌈")
    assert got == [Event("🦄", "🌈")]
    assert bus.listener_count("🦄") == 0


async def test_once_with_several_names_resolves_on_any_of_them() -> None:
    bus = Emittery()
    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            box = await start_waiting(tg, bus.once, ["🦄", "🐶"])
            await bus.emit("🐱", "ignored")
            await bus.emit("🐶", "🌈")
    assert box == [Event("🐶", "🌈")]
    assert bus.listener_count() == 0


async def test_once_with_a_predicate_waits_for_a_matching_event() -> None:
    bus = Emittery()
    seen: list[Event[Any]] = []

    def predicate(event: Event[Any]) -> bool:
        seen.append(event)
        return bool(event.data["ok"])

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            box = await start_waiting(tg, bus.once, "data", predicate)
            await bus.emit("data", {"ok": False})
            assert box == []
            assert bus.listener_count("data") == 1
            await bus.emit("data", {"ok": True, "value": 42})
            await bus.emit("data", {"ok": True, "value": 43})
    assert box == [Event("data", {"ok": True, "value": 42})]
    assert [e.data for e in seen] == [{"ok": False}, {"ok": True, "value": 42}]
    assert bus.listener_count("data") == 0


async def test_two_concurrent_onces_both_get_the_event() -> None:
    bus = Emittery()
    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            box1 = await start_waiting(tg, bus.once, "🦄")
            box2 = await start_waiting(tg, bus.once, "🦄")
            assert bus.listener_count("🦄") == 2
            await bus.emit("🦄", 1)
    assert box1 == box2 == [Event("🦄", 1)]


async def test_once_resolves_from_emit_serial_too() -> None:
    bus = Emittery()
    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            box = await start_waiting(tg, bus.once, "🦄")
            await bus.emit_serial("🦄", 1)
    assert box == [Event("🦄", 1)]


async def test_cancelling_once_unsubscribes() -> None:
    bus = Emittery()
    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            scope = anyio.CancelScope()

            async def waiter() -> None:
                with scope:
                    await bus.once("🦄")

            tg.start_soon(waiter)
            await anyio.wait_all_tasks_blocked()
            assert bus.listener_count("🦄") == 1
            scope.cancel()
    assert bus.listener_count("🦄") == 0
    await bus.emit("🦄")  # nobody left to wake


async def test_once_timing_out_unsubscribes() -> None:
    bus = Emittery()
    with anyio.move_on_after(0.01) as scope:
        await bus.once(["🦄", "🐶"])
    assert scope.cancelled_caught
    assert bus.listener_count() == 0


@pytest.mark.parametrize("bad", [True, 42, None, ["a", 42]], ids=repr)
async def test_once_with_a_bad_name_raises_type_error(bad: Any) -> None:
    bus = Emittery()
    with anyio.fail_after(GUARD), pytest.raises(TypeError):
        await bus.once(bad)
    assert bus.listener_count() == 0


@pytest.mark.parametrize("bad", [42, "predicate", True], ids=repr)
async def test_once_with_a_non_callable_predicate_raises_type_error(bad: Any) -> None:
    bus = Emittery()
    with anyio.fail_after(GUARD), pytest.raises(TypeError):
        await bus.once("🦄", bad)
    assert bus.listener_count() == 0


# --- events() ---------------------------------------------------------------------------------


async def test_events_subscribes_when_called_and_buffers_in_order() -> None:
    bus = Emittery()
    iterator = bus.events("🦄")
    assert bus.listener_count("🦄") == 1
    await bus.emit("🦄", "🌈1")  # before the first __anext__: buffered
    await bus.emit("🐶", "not mine")
    await bus.emit_serial("🦄", "🌈2")
    assert await iterator.__anext__() == Event("🦄", "🌈1")
    assert await iterator.__anext__() == Event("🦄", "🌈2")
    await iterator.aclose()


async def test_events_in_async_for_then_aclose_unsubscribes_and_ends() -> None:
    bus = Emittery()
    iterator = bus.events("🦄")
    await bus.emit("🦄", "🌈")
    received: list[Any] = []

    async def later() -> None:
        await anyio.wait_all_tasks_blocked()
        await bus.emit("🦄", "🌟")

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(later)
            async for event in iterator:
                received.append(event.data)
                if len(received) == 2:
                    break
    assert received == ["🌈", "🌟"]
    assert bus.listener_count("🦄") == 1  # a bare break does not close it in Python
    await iterator.aclose()
    assert bus.listener_count("🦄") == 0
    with pytest.raises(StopAsyncIteration):
        await iterator.__anext__()


async def test_after_a_bare_break_the_same_iterator_goes_on_where_it_stopped() -> None:
    bus = Emittery()
    iterator = bus.events("🦄")
    for i in range(4):
        await bus.emit("🦄", i)
    seen: list[Any] = []
    async for event in iterator:
        seen.append(event.data)
        if event.data == 1:
            break
    async for event in iterator:
        seen.append(event.data)
        if event.data == 3:
            break
    assert seen == [0, 1, 2, 3]
    await iterator.aclose()


async def test_events_with_several_names() -> None:
    bus = Emittery()
    iterator = bus.events(["🦄", "🐶"])
    assert bus.listener_count("🦄") == 1
    assert bus.listener_count("🐶") == 1
    await bus.emit("🦄", "🌈")
    await bus.emit("🐱", "ignored")
    await bus.emit("🐶", "🌈")
    assert await iterator.__anext__() == Event("🦄", "🌈")
    assert await iterator.__anext__() == Event("🐶", "🌈")
    await iterator.aclose()
    assert bus.listener_count() == 0


async def test_aclosing_unsubscribes() -> None:
    bus = Emittery()
    received: list[Any] = []
    async with contextlib.aclosing(bus.events("🦄")) as iterator:
        await bus.emit("🦄", 1)
        await bus.emit("🦄", 2)
        async for event in iterator:
            received.append(event.data)
            if event.data == 2:
                break
    assert received == [1, 2]
    assert bus.listener_count("🦄") == 0


async def test_aclose_discards_the_buffer_and_stops_receiving() -> None:
    """Emittery's 'discarded iterators should stop receiving events'."""
    bus = Emittery()
    iterator = bus.events("🦄")
    await bus.emit("🦄", "🌈")
    await bus.emit("🦄", "buffered, then discarded")
    assert await iterator.__anext__() == Event("🦄", "🌈")
    await iterator.aclose()
    await bus.emit("🦄", "🌟")
    for _ in range(2):
        with pytest.raises(StopAsyncIteration):
            await iterator.__anext__()
    await iterator.aclose()  # idempotent
    assert bus.listener_count("🦄") == 0


async def test_aclose_before_the_first_anext_unsubscribes() -> None:
    bus = Emittery()
    iterator = bus.events("🦄")
    assert bus.listener_count("🦄") == 1
    await iterator.aclose()
    assert bus.listener_count("🦄") == 0
    with pytest.raises(StopAsyncIteration):
        await iterator.__anext__()


async def test_each_iterator_has_its_own_buffer() -> None:
    bus = Emittery()
    first = bus.events("🦄")
    second = bus.events("🦄")
    assert bus.listener_count("🦄") == 2
    await bus.emit("🦄", 1)
    await bus.emit("🦄", 2)
    assert [(await first.__anext__()).data, (await first.__anext__()).data] == [1, 2]
    assert (await second.__anext__()).data == 1
    await first.aclose()
    await bus.emit("🦄", 3)
    assert [(await second.__anext__()).data, (await second.__anext__()).data] == [2, 3]
    await second.aclose()


async def test_emit_does_not_wait_for_a_slow_iterator_consumer() -> None:
    bus = Emittery()
    iterator = bus.events("🦄")
    with anyio.fail_after(GUARD):
        for i in range(1000):
            await bus.emit("🦄", i)
    assert [(await iterator.__anext__()).data for _ in range(1000)] == list(range(1000))
    await iterator.aclose()


async def test_a_consumer_blocked_in_anext_gets_later_events() -> None:
    bus = Emittery()
    iterator = bus.events("🦄")
    received: list[Any] = []

    async def consume() -> None:
        async for event in iterator:
            received.append(event.data)
            if len(received) == 3:
                return

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            for i in range(3):
                await anyio.wait_all_tasks_blocked()
                await bus.emit("🦄", i)
    assert received == [0, 1, 2]
    await iterator.aclose()


@pytest.mark.parametrize("end", ["aclose", "clear_listeners"])
async def test_two_consumers_of_one_iterator_share_its_events_and_both_end(end: str) -> None:
    """`__anext__` ends with StopAsyncIteration once the iterator is closed or cleared, for
    every consumer waiting in it, not only the last one to call it; no event is lost or
    delivered twice."""
    bus = Emittery()
    iterator = bus.events("🦄")
    got: dict[str, list[Any]] = {"A": [], "B": []}
    ended: list[str] = []

    async def consume(tag: str) -> None:
        async for event in iterator:
            got[tag].append(event.data)
        ended.append(tag)

    with anyio.fail_after(5):  # a TimeoutError here means a consumer was never woken
        async with anyio.create_task_group() as tg:
            tg.start_soon(consume, "A")
            tg.start_soon(consume, "B")
            for i in range(4):
                await anyio.wait_all_tasks_blocked()
                await bus.emit("🦄", i)
            await anyio.wait_all_tasks_blocked()
            if end == "aclose":
                await iterator.aclose()
            else:
                bus.clear_listeners()
    assert sorted(ended) == ["A", "B"]
    assert sorted(got["A"] + got["B"]) == [0, 1, 2, 3]


async def test_a_consumer_giving_up_does_not_strand_another_consumer() -> None:
    """One task's `__anext__` timing out must not stop another task's from being woken."""
    bus = Emittery()
    iterator = bus.events("🦄")
    got: list[Event[Any]] = []

    async def patient() -> None:
        got.append(await iterator.__anext__())

    with anyio.fail_after(5):  # a TimeoutError here means the patient consumer was stranded
        async with anyio.create_task_group() as tg:
            tg.start_soon(patient)
            await anyio.wait_all_tasks_blocked()
            with anyio.CancelScope() as scope:
                scope.cancel()
                await iterator.__anext__()
            await bus.emit("🦄", "🌈")
    assert got == [Event("🦄", "🌈")]
    await iterator.aclose()


async def test_iterator_created_after_a_listener_receives_the_same_emit() -> None:
    """Emittery's 'return() called during emit': closing the iterator from a listener of the
    very emit that fed it unsubscribes it, and `__anext__` then ends (the buffer is dropped)."""
    bus = Emittery()
    holder: list[Any] = []

    async def closes_iterator(event: Event[Any]) -> None:
        await holder[0].aclose()

    bus.on("🦄", closes_iterator)
    holder.append(bus.events("🦄"))
    await bus.emit("🦄", "🌈")
    assert bus.listener_count("🦄") == 1  # only the listener is left
    with pytest.raises(StopAsyncIteration):
        await holder[0].__anext__()


async def test_iterator_created_during_an_emit_does_not_get_that_emit() -> None:
    bus = Emittery()
    created: list[Any] = []

    def creates_iterator(event: Event[Any]) -> None:
        if not created:
            created.append(bus.events("🦄"))

    bus.on("🦄", creates_iterator)
    await bus.emit("🦄", 1)
    await bus.emit("🦄", 2)
    assert await created[0].__anext__() == Event("🦄", 2)
    await created[0].aclose()


@pytest.mark.parametrize("bad", [True, 42, None, ["a", 42]], ids=repr)
async def test_events_with_a_bad_name_raises_type_error_when_called(bad: Any) -> None:
    bus = Emittery()
    with pytest.raises(TypeError):
        bus.events(bad)
    assert bus.listener_count() == 0


# --- any_event() -----------------------------------------------------------------------------


async def test_any_event_yields_every_event_in_order() -> None:
    bus = Emittery()
    iterator = bus.any_event()
    assert bus.listener_count() == 1
    assert bus.listener_count("anything") == 1
    await bus.emit("🦄", "🌈1")
    await bus.emit_serial("🌟", "🌈2")
    assert await iterator.__anext__() == Event("🦄", "🌈1")
    assert await iterator.__anext__() == Event("🌟", "🌈2")
    await iterator.aclose()
    assert bus.listener_count() == 0
    await bus.emit("🦄", "after close")
    with pytest.raises(StopAsyncIteration):
        await iterator.__anext__()


async def test_any_event_closed_by_an_any_listener_during_emit_ends() -> None:
    """Emittery's 'anyEvent() - return() called during emit'."""
    bus = Emittery()
    holder: list[Any] = []

    async def closes_iterator(event: Event[Any]) -> None:
        await holder[0].aclose()

    bus.on_any(closes_iterator)
    holder.append(bus.any_event())
    assert bus.listener_count() == 2
    await bus.emit("🦄", "🌈")
    assert bus.listener_count() == 1
    with pytest.raises(StopAsyncIteration):
        await holder[0].__anext__()


async def test_any_event_in_async_for_with_aclosing() -> None:
    bus = Emittery()
    received: list[tuple[str, Any]] = []
    async with contextlib.aclosing(bus.any_event()) as iterator:
        await bus.emit("🦄", "🌈")
        await bus.emit("🐶", "🍖")
        async for event in iterator:
            received.append((event.name, event.data))
            if len(received) == 2:
                break
    assert received == [("🦄", "🌈"), ("🐶", "🍖")]
    assert bus.listener_count() == 0


# --- clear_listeners() --------------------------------------------------------------------------


async def test_clear_listeners_removes_every_listener() -> None:
    bus = Emittery()
    calls: list[str] = []
    bus.on("🦄", lambda e: calls.append("🦄1"))
    bus.on("🌈", lambda e: calls.append("🌈"))
    bus.on("🦄", lambda e: calls.append("🦄2"))
    bus.on_any(lambda e: calls.append("any1"))
    bus.on_any(lambda e: calls.append("any2"))
    await bus.emit("🦄")
    await bus.emit("🌈")
    assert calls == ["🦄1", "🦄2", "any1", "any2", "🌈", "any1", "any2"]
    bus.clear_listeners()
    await bus.emit("🦄")
    await bus.emit("🌈")
    assert calls == ["🦄1", "🦄2", "any1", "any2", "🌈", "any1", "any2"]
    assert bus.listener_count() == 0


async def test_clear_listeners_lets_iterators_drain_then_end() -> None:
    bus = Emittery()
    iterator = bus.events("🦄")
    any_iterator = bus.any_event()
    await bus.emit("🦄", "🌟")
    await bus.emit("🌈", "🌟")
    assert await iterator.__anext__() == Event("🦄", "🌟")
    assert await any_iterator.__anext__() == Event("🦄", "🌟")
    assert await any_iterator.__anext__() == Event("🌈", "🌟")
    await bus.emit("🦄", "💫")
    bus.clear_listeners()
    assert bus.listener_count() == 0
    await bus.emit("🌈", "💫")
    assert await iterator.__anext__() == Event("🦄", "💫")
    with pytest.raises(StopAsyncIteration):
        await iterator.__anext__()
    assert await any_iterator.__anext__() == Event("🦄", "💫")
    with pytest.raises(StopAsyncIteration):
        await any_iterator.__anext__()


async def test_clear_listeners_with_a_name_keeps_any_listeners() -> None:
    bus = Emittery()
    calls: list[str] = []
    bus.on("🦄", lambda e: calls.append("🦄1"))
    bus.on("🌈", lambda e: calls.append("🌈"))
    bus.on("🦄", lambda e: calls.append("🦄2"))
    bus.on_any(lambda e: calls.append("any1"))
    bus.on_any(lambda e: calls.append("any2"))
    await bus.emit("🦄")
    await bus.emit("🌈")
    bus.clear_listeners("🦄")
    await bus.emit("🦄")
    await bus.emit("🌈")
    assert calls == [
        "🦄1", "🦄2", "any1", "any2", "🌈", "any1", "any2",
        "any1", "any2", "🌈", "any1", "any2",
    ]  # fmt: skip


async def test_clear_listeners_with_several_names() -> None:
    bus = Emittery()
    calls: list[str] = []
    bus.on("🦄", lambda e: calls.append("🦄1"))
    bus.on("🌈", lambda e: calls.append("🌈"))
    bus.on("🐶", lambda e: calls.append("🐶"))
    bus.on_any(lambda e: calls.append("any1"))
    bus.clear_listeners(["🦄", "🌈"])
    await bus.emit("🦄")
    await bus.emit("🌈")
    await bus.emit("🐶")
    assert calls == ["any1", "any1", "🐶", "any1"]


async def test_clear_listeners_with_a_name_ends_only_that_names_iterators() -> None:
    bus = Emittery()
    iterator = bus.events("🦄")
    other = bus.events("🐶")
    any_iterator = bus.any_event()
    await bus.emit("🦄", "🌟")
    await bus.emit("🌈", "🌟")
    assert await iterator.__anext__() == Event("🦄", "🌟")
    assert await any_iterator.__anext__() == Event("🦄", "🌟")
    assert await any_iterator.__anext__() == Event("🌈", "🌟")
    await bus.emit("🦄", "💫")
    bus.clear_listeners("🦄")
    await bus.emit("🌈", "💫")
    await bus.emit("🐶", "🍖")
    assert await iterator.__anext__() == Event("🦄", "💫")
    with pytest.raises(StopAsyncIteration):
        await iterator.__anext__()
    assert await any_iterator.__anext__() == Event("🦄", "💫")
    assert await any_iterator.__anext__() == Event("🌈", "💫")
    assert await any_iterator.__anext__() == Event("🐶", "🍖")
    assert await other.__anext__() == Event("🐶", "🍖")
    await other.aclose()
    await any_iterator.aclose()


async def test_clear_listeners_wakes_a_consumer_blocked_in_anext() -> None:
    bus = Emittery()
    received: list[Any] = []
    finished: list[bool] = []

    async def consume() -> None:
        async for event in bus.events("🦄"):
            received.append(event.data)
        finished.append(True)

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await anyio.wait_all_tasks_blocked()
            await bus.emit("🦄", 1)
            await anyio.wait_all_tasks_blocked()
            bus.clear_listeners()
    assert received == [1]
    assert finished == [True]


@pytest.mark.parametrize("bad", [True, 42], ids=repr)
async def test_clear_listeners_with_a_bad_name_raises_type_error(bad: Any) -> None:
    bus = Emittery()
    bus.on("🦄", noop)
    with pytest.raises(TypeError):
        bus.clear_listeners(bad)
    assert bus.listener_count("🦄") == 1


# --- listener_count() -------------------------------------------------------------------------


async def test_listener_count_counts_the_names_listeners_plus_any_listeners() -> None:
    bus = Emittery()
    bus.on("🦄", lambda e: None)
    bus.on("🌈", lambda e: None)
    bus.on("🦄", lambda e: None)
    bus.on_any(lambda e: None)
    bus.on_any(lambda e: None)
    assert bus.listener_count("🦄") == 4
    assert bus.listener_count("🌈") == 3
    assert bus.listener_count("nobody") == 2
    assert bus.listener_count() == 5


async def test_listener_count_with_several_names_adds_them_up() -> None:
    bus = Emittery()
    bus.on("🦄", lambda e: None)
    bus.on("🌈", lambda e: None)
    bus.on("🦄", lambda e: None)
    bus.on_any(lambda e: None)
    bus.on_any(lambda e: None)
    assert bus.listener_count(["🦄", "🌈"]) == 7
    assert bus.listener_count() == 5


async def test_listener_count_counts_iterators_and_any_iterators() -> None:
    bus = Emittery()
    bus.on("🦄", noop)
    iterator = bus.events("🦄")
    both = bus.events(["🦄", "🌈"])
    any_iterator = bus.any_event()
    bus.on_any(noop)
    assert bus.listener_count("🦄") == 5
    assert bus.listener_count("🌈") == 3
    assert bus.listener_count("nobody") == 2
    assert bus.listener_count() == 6  # the two-name iterator counts once per name it has
    await any_iterator.aclose()
    await iterator.aclose()
    await both.aclose()
    assert bus.listener_count("🦄") == 2
    assert bus.listener_count() == 2


async def test_listener_count_counts_every_mode() -> None:
    bus = Emittery()
    bus.on("🦄", noop)
    bus.on("🦄", lambda e: None, mode="async")
    bus.on("🦄", lambda e: None, mode="serial")
    assert bus.listener_count("🦄") == 3


@pytest.mark.parametrize("bad", [True, 42, 1.5], ids=repr)
async def test_listener_count_with_a_bad_name_raises_type_error(bad: Any) -> None:
    bus = Emittery()
    with pytest.raises(TypeError):
        bus.listener_count(bad)
