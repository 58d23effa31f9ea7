"""`emit` / `emit_serial`: snapshot, order, eager start, concurrency, errors and cancellation.

DESIGN §4 "Emittery, in Python" plus the eager-start rules of issue 2: listeners start in
subscription order (regular, then any) on trio too; a listener that finishes without suspending
has run fully before the next starts; one that suspends does not hold up the next; every listener
runs even when some fail; cancelling an `emit` cancels the listeners still running; listeners may
use cancel scopes, timeouts, locks and task groups of their own and suspend inside them.
Ported cases come from sindresorhus/emittery's test suite (emit(), emitSerial()).
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tidings.runtime import Emittery, Event

pytestmark = pytest.mark.anyio

EMITS = ["emit", "emit_serial"]

# Deadlock guard only (never asserted on): a broken implementation must fail, not hang.
GUARD = 10


def recorder(calls: list[Any], tag: Any) -> Any:
    def listener(event: Event[Any]) -> None:
        calls.append(tag)

    return listener


# --- awaiting ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", EMITS)
async def test_emit_awaits_async_listeners(method: str) -> None:
    bus = Emittery()
    done: list[str] = []

    async def slow(event: Event[Any]) -> None:
        for _ in range(5):
            await anyio.sleep(0)
        done.append(event.name)

    bus.on("🦄", slow)
    bus.on_any(slow)
    await getattr(bus, method)("🦄")
    assert done == ["🦄", "🦄"]


@pytest.mark.parametrize("method", EMITS)
async def test_emit_with_no_listeners_is_fine(method: str) -> None:
    bus = Emittery()
    assert await getattr(bus, method)("nobody-listens", 1) is None


async def test_emit_of_many_events_each_reaches_the_listener() -> None:
    bus = Emittery()
    seen: list[int] = []

    async def listener(event: Event[Any]) -> None:
        await anyio.sleep(0)
        seen.append(event.data)

    bus.on("🦄", listener)
    async with anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(bus.emit, "🦄", i)
    assert sorted(seen) == [0, 1, 2, 3, 4]


# --- snapshot at emit ------------------------------------------------------------------------


@pytest.mark.parametrize("method", EMITS)
async def test_calls_the_listeners_subscribed_when_emit_was_called(method: str) -> None:
    """Emittery's 'calls listeners subscribed when emit() was invoked', step by step."""
    bus = Emittery()
    calls: list[int] = []

    async def emit() -> None:
        await getattr(bus, method)("🦄")

    off1 = bus.on("🦄", recorder(calls, 1))
    await emit()
    assert calls == [1]
    bus.on("🦄", recorder(calls, 2))

    def listener3(event: Event[Any]) -> None:
        calls.append(3)
        off1()  # removed before its turn in the next emit, but it already ran in this one
        bus.on("🦄", recorder(calls, 4))  # added during emit: not called by this emit

    off3 = bus.on("🦄", listener3)
    await emit()
    assert calls == [1, 1, 2, 3]
    off3()

    def listener5(event: Event[Any]) -> None:
        calls.append(5)
        bus.on_any(recorder(calls, 6))  # any-listener added during emit: not called

    off5 = bus.on("🦄", listener5)
    await emit()
    assert calls == [1, 1, 2, 3, 2, 4, 5]
    off5()

    offs: dict[int, Any] = {}

    def listener7(event: Event[Any]) -> None:
        calls.append(7)
        offs[8]()  # removed before its turn: not called

    bus.on("🦄", listener7)
    offs[8] = bus.on("🦄", recorder(calls, 8))
    await emit()
    assert calls == [1, 1, 2, 3, 2, 4, 5, 2, 4, 7, 6]

    def listener9(event: Event[Any]) -> None:
        calls.append(9)
        offs[10]()  # any-listener removed before its turn: not called

    bus.on_any(listener9)
    offs[10] = bus.on_any(recorder(calls, 10))
    await emit()
    assert calls == [1, 1, 2, 3, 2, 4, 5, 2, 4, 7, 6, 2, 4, 7, 6, 9]

    await emit()
    assert calls == [1, 1, 2, 3, 2, 4, 5, 2, 4, 7, 6, 2, 4, 7, 6, 9, 2, 4, 7, 6, 9]


@pytest.mark.parametrize("method", EMITS)
async def test_listener_added_while_an_emit_is_in_flight_is_not_called_by_it(method: str) -> None:
    bus = Emittery()
    calls: list[str] = []
    gate = anyio.Event()

    async def waits(event: Event[Any]) -> None:
        calls.append("waits")
        await gate.wait()

    bus.on("🦄", waits)
    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(getattr(bus, method), "🦄")
            await anyio.wait_all_tasks_blocked()
            bus.on("🦄", recorder(calls, "late"))
            bus.on_any(recorder(calls, "late-any"))
            gate.set()
    assert calls == ["waits"]


async def test_listener_removed_while_emit_serial_is_in_flight_is_not_called() -> None:
    """Emittery: removing a listener prevents it from being invoked even if the event is in
    the process of being emitted (here: while an earlier serial listener is still running)."""
    bus = Emittery()
    calls: list[str] = []
    gate = anyio.Event()

    async def waits(event: Event[Any]) -> None:
        calls.append("waits")
        await gate.wait()

    bus.on("🦄", waits)
    off_later = bus.on("🦄", recorder(calls, "later"))
    off_any = bus.on_any(recorder(calls, "any"))
    bus.on("🦄", recorder(calls, "kept"))
    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(bus.emit_serial, "🦄")
            await anyio.wait_all_tasks_blocked()
            off_later()
            off_any()
            gate.set()
    assert calls == ["waits", "kept"]


@pytest.mark.parametrize("method", EMITS)
async def test_clear_listeners_by_an_earlier_listener_stops_the_later_ones(method: str) -> None:
    bus = Emittery()
    calls: list[str] = []

    def clears(event: Event[Any]) -> None:
        calls.append("clears")
        bus.clear_listeners()

    bus.on("🦄", clears)
    bus.on("🦄", recorder(calls, "regular"))
    bus.on_any(recorder(calls, "any"))
    await getattr(bus, method)("🦄")
    assert calls == ["clears"]


# --- order and eager start --------------------------------------------------------------------


def start_order_listeners(bus: Emittery, started: list[str]) -> list[str]:
    """Subscribe a mix of sync and async listeners; return the order they must start in."""

    def make(tag: str, kind: str) -> Any:
        if kind == "sync":

            def sync_listener(event: Event[Any]) -> None:
                started.append(tag)

            return sync_listener

        async def async_listener(event: Event[Any]) -> None:
            started.append(tag)  # the first thing it does when started
            await anyio.sleep(0)
            await anyio.sleep(0)

        return async_listener

    bus.on_any(make("any0", "async"))
    for i in range(6):
        bus.on("go", make(f"r{i}", "async" if i % 2 == 0 else "sync"))
    bus.on_any(make("any1", "sync"))
    bus.on_any(make("any2", "async"))
    bus.on("other", make("other", "sync"))
    bus.on("go", make("r6", "async"))
    return ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "any0", "any1", "any2"]


@pytest.mark.parametrize("method", EMITS)
async def test_listeners_start_in_subscription_order_regular_then_any(method: str) -> None:
    """Repeated, because trio deliberately shuffles the order in which ready tasks run."""
    bus = Emittery()
    started: list[str] = []
    expected = start_order_listeners(bus, started)
    for _ in range(25):
        started.clear()
        await getattr(bus, method)("go")
        assert started == expected


async def test_listener_that_does_not_suspend_has_run_fully_before_the_next_starts() -> None:
    bus = Emittery()
    log: list[str] = []

    def make(tag: str) -> Any:
        async def listener(event: Event[Any]) -> None:
            log.append(f"{tag}-start")
            log.append(f"{tag}-end")

        return listener

    for tag in ("a", "b", "c"):
        bus.on("go", make(tag))
    bus.on_any(make("any"))
    for _ in range(10):
        log.clear()
        await bus.emit("go")
        assert log == [
            "a-start", "a-end", "b-start", "b-end", "c-start", "c-end", "any-start", "any-end",
        ]  # fmt: skip


async def test_listener_that_suspends_does_not_block_the_next_from_starting() -> None:
    """Listener 1 waits for an event only listener 2 sets: emit must complete."""
    bus = Emittery()
    log: list[str] = []
    gate = anyio.Event()

    async def first(event: Event[Any]) -> None:
        log.append("1-start")
        await gate.wait()
        log.append("1-end")

    async def second(event: Event[Any]) -> None:
        log.append("2-start")
        gate.set()
        log.append("2-end")

    bus.on("go", first)
    bus.on("go", second)
    with anyio.fail_after(GUARD):
        await bus.emit("go")
    assert log == ["1-start", "2-start", "2-end", "1-end"]


async def test_listeners_run_concurrently_chain_of_handoffs() -> None:
    """Each listener waits for the next one's signal; only concurrent listeners can finish."""
    bus = Emittery()
    n = 6
    gates = [anyio.Event() for _ in range(n + 1)]
    finished: list[int] = []

    def make(i: int) -> Any:
        async def listener(event: Event[Any]) -> None:
            await gates[i + 1].wait()
            finished.append(i)
            gates[i].set()

        return listener

    for i in range(n):
        bus.on("go", make(i))
    bus.on_any(lambda event: gates[n].set())
    with anyio.fail_after(GUARD):
        await bus.emit("go")
    assert finished == list(reversed(range(n)))


async def test_any_listener_can_unblock_a_regular_one() -> None:
    bus = Emittery()
    gate = anyio.Event()
    log: list[str] = []

    async def regular(event: Event[Any]) -> None:
        await gate.wait()
        log.append("regular")

    async def any_listener(event: Event[Any]) -> None:
        await anyio.sleep(0)
        gate.set()
        log.append("any")

    bus.on("go", regular)
    bus.on_any(any_listener)
    with anyio.fail_after(GUARD):
        await bus.emit("go")
    assert sorted(log) == ["any", "regular"]


async def test_emit_serial_runs_one_listener_after_another() -> None:
    bus = Emittery()
    log: list[str] = []

    def make(tag: str) -> Any:
        async def listener(event: Event[Any]) -> None:
            log.append(f"{tag}-start")
            for _ in range(3):
                await anyio.sleep(0)
            log.append(f"{tag}-end")

        return listener

    for tag in ("1", "2", "3"):
        bus.on("go", make(tag))
    bus.on_any(make("any"))
    await bus.emit_serial("go")
    assert log == [
        "1-start", "1-end", "2-start", "2-end", "3-start", "3-end", "any-start", "any-end",
    ]  # fmt: skip


async def test_emit_serial_listener_sees_the_previous_ones_effects() -> None:
    bus = Emittery()
    state: list[int] = []

    async def first(event: Event[Any]) -> None:
        await anyio.sleep(0)
        state.append(1)

    async def second(event: Event[Any]) -> None:
        assert state == [1]
        state.append(2)

    bus.on("go", first)
    bus.on("go", second)
    await bus.emit_serial("go")
    assert state == [1, 2]


# --- errors ------------------------------------------------------------------------------------


async def test_emit_runs_every_listener_and_raises_a_flat_group_of_all_errors() -> None:
    bus = Emittery()
    ran: list[str] = []
    sync_error = ValueError("sync 🌈")
    async_error = KeyError("async 🌈")
    any_error = RuntimeError("any 🌈")

    def sync_fails(event: Event[Any]) -> None:
        ran.append("sync_fails")
        raise sync_error

    async def async_fails(event: Event[Any]) -> None:
        ran.append("async_fails")
        await anyio.sleep(0)
        raise async_error

    async def succeeds(event: Event[Any]) -> None:
        await anyio.sleep(0)
        ran.append("succeeds")

    def any_fails(event: Event[Any]) -> None:
        ran.append("any_fails")
        raise any_error

    bus.on("🦄", sync_fails)
    bus.on("🦄", async_fails)
    bus.on("🦄", succeeds)
    bus.on_any(any_fails)
    with pytest.raises(ExceptionGroup) as caught:
        await bus.emit("🦄")
    assert sorted(ran) == ["any_fails", "async_fails", "succeeds", "sync_fails"]
    errors = caught.value.exceptions
    assert len(errors) == 3
    assert {id(e) for e in errors} == {id(sync_error), id(async_error), id(any_error)}


@pytest.mark.parametrize("kind", ["sync", "async-before-suspending", "async-after-suspending"])
async def test_a_single_error_is_still_wrapped_in_an_exception_group(kind: str) -> None:
    bus = Emittery()
    error = ValueError("🌈")

    def sync_fails(event: Event[Any]) -> None:
        raise error

    async def async_fails_at_once(event: Event[Any]) -> None:
        raise error

    async def async_fails_later(event: Event[Any]) -> None:
        await anyio.sleep(0)
        raise error

    listener = {
        "sync": sync_fails,
        "async-before-suspending": async_fails_at_once,
        "async-after-suspending": async_fails_later,
    }[kind]
    bus.on("🦄", listener)
    with pytest.raises(ExceptionGroup) as caught:
        await bus.emit("🦄")
    assert len(caught.value.exceptions) == 1
    assert caught.value.exceptions[0] is error


async def test_a_listener_raising_an_exception_group_appears_as_itself() -> None:
    """Flat means one level: the listener's own error is the member, even if it is a group."""
    bus = Emittery()
    inner = ExceptionGroup("from a listener's task group", [ValueError("x")])

    def fails(event: Event[Any]) -> None:
        raise inner

    bus.on("🦄", fails)
    with pytest.raises(ExceptionGroup) as caught:
        await bus.emit("🦄")
    assert len(caught.value.exceptions) == 1
    assert caught.value.exceptions[0] is inner


async def test_emit_is_usable_again_after_listener_errors() -> None:
    bus = Emittery()
    calls: list[int] = []
    fail = [True]

    async def sometimes(event: Event[Any]) -> None:
        await anyio.sleep(0)
        if fail[0]:
            raise ValueError("once")
        calls.append(1)

    bus.on("🦄", sometimes)
    with pytest.raises(ExceptionGroup):
        await bus.emit("🦄")
    fail[0] = False
    await bus.emit("🦄")
    assert calls == [1]


@pytest.mark.parametrize("where", ["regular", "any"])
async def test_emit_serial_raises_the_first_error_as_itself_and_stops(where: str) -> None:
    bus = Emittery()
    ran: list[str] = []
    error = ValueError("🌈")

    async def fails(event: Event[Any]) -> None:
        ran.append("fails")
        await anyio.sleep(0)
        raise error

    def second_error(event: Event[Any]) -> None:
        ran.append("second_error")
        raise KeyError("never")

    bus.on("🦄", recorder(ran, "before"))
    if where == "regular":
        bus.on("🦄", fails)
        bus.on("🦄", second_error)
        bus.on("🦄", recorder(ran, "after"))
        bus.on_any(recorder(ran, "any"))
    else:
        bus.on_any(fails)
        bus.on_any(second_error)
        bus.on_any(recorder(ran, "after-any"))
    with pytest.raises(ValueError) as caught:
        await bus.emit_serial("🦄")
    assert caught.value is error
    assert ran == ["before", "fails"]


async def test_emit_serial_sync_listener_error_propagates_as_itself() -> None:
    bus = Emittery()
    error = KeyError("🌈")

    def fails(event: Event[Any]) -> None:
        raise error

    bus.on("🦄", fails)
    with pytest.raises(KeyError) as caught:
        await bus.emit_serial("🦄")
    assert caught.value is error


# --- cancellation -----------------------------------------------------------------------------


def cancellable(tag: str, started: list[str], cancelled: list[str]) -> Any:
    async def listener(event: Event[Any]) -> None:
        started.append(tag)
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.append(tag)
            raise

    return listener


async def test_cancelling_emit_cancels_the_running_listeners_and_propagates() -> None:
    bus = Emittery()
    started: list[str] = []
    cancelled: list[str] = []
    finished: list[str] = []
    bus.on("slow", cancellable("a", started, cancelled))
    bus.on("slow", recorder(finished, "quick"))
    bus.on("slow", cancellable("b", started, cancelled))
    bus.on_any(cancellable("any", started, cancelled))
    for _ in range(3):  # and again: the emitter stays usable
        started.clear()
        cancelled.clear()
        reached_after_emit = False
        with anyio.fail_after(GUARD), anyio.move_on_after(0.05) as scope:
            await bus.emit("slow")
            reached_after_emit = True
        assert scope.cancelled_caught
        assert not reached_after_emit
        assert started == ["a", "b", "any"]
        assert sorted(cancelled) == ["a", "any", "b"]
    assert finished == ["quick", "quick", "quick"]
    assert bus.listener_count("slow") == 4


async def test_cancelling_emit_from_another_task_leaves_the_emitter_usable() -> None:
    bus = Emittery()
    started: list[str] = []
    cancelled: list[str] = []
    bus.on("slow", cancellable("a", started, cancelled))
    bus.on("slow", cancellable("b", started, cancelled))
    scope = anyio.CancelScope()
    after: list[bool] = []

    async def publisher() -> None:
        with scope:
            await bus.emit("slow")
            after.append(True)

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(publisher)
            await anyio.wait_all_tasks_blocked()
            assert started == ["a", "b"]
            scope.cancel()
    assert after == []
    assert sorted(cancelled) == ["a", "b"]

    received: list[Event[Any]] = []
    bus.on("ok", received.append)
    await bus.emit("ok", 1)
    await bus.emit_serial("ok", 2)
    assert received == [Event("ok", 1), Event("ok", 2)]


async def test_cancelling_emit_serial_cancels_the_current_listener_and_skips_the_rest() -> None:
    bus = Emittery()
    started: list[str] = []
    cancelled: list[str] = []
    bus.on("slow", cancellable("a", started, cancelled))
    bus.on("slow", recorder(started, "never"))
    with anyio.fail_after(GUARD), anyio.move_on_after(0.05) as scope:
        await bus.emit_serial("slow")
    assert scope.cancelled_caught
    assert started == ["a"]
    assert cancelled == ["a"]
    bus.on("fine", recorder(started, "fine"))
    await bus.emit_serial("fine")
    assert started == ["a", "fine"]


async def test_a_listener_cancelled_by_emit_may_clean_up_with_a_shielded_await() -> None:
    bus = Emittery()
    cleaned: list[str] = []

    async def listener(event: Event[Any]) -> None:
        try:
            await anyio.sleep_forever()
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.sleep(0)
                cleaned.append("done")

    bus.on("slow", listener)
    with anyio.fail_after(GUARD), anyio.move_on_after(0.05):
        await bus.emit("slow")
    assert cleaned == ["done"]


# --- listeners with cancel scopes, timeouts, locks and task groups of their own ---------------


async def test_listeners_may_suspend_inside_their_own_scopes_locks_and_task_groups() -> None:
    """Guards the eager start: it must not corrupt any listener's cancel-scope stack."""
    bus = Emittery()
    lock = anyio.Lock()
    log: list[str] = []
    gate: list[anyio.Event] = [anyio.Event()]

    async def with_fail_after(event: Event[Any]) -> None:
        with anyio.fail_after(60):
            await anyio.sleep(0)
            await gate[0].wait()
        log.append("fail_after")

    async def with_move_on_that_fires(event: Event[Any]) -> None:
        with anyio.move_on_after(0.01) as scope:
            await anyio.sleep_forever()
        log.append(f"move_on cancelled_caught={scope.cancelled_caught}")

    async def cancels_its_own_scope(event: Event[Any]) -> None:
        with anyio.CancelScope() as scope:
            await anyio.sleep(0)
            scope.cancel()
            await anyio.sleep_forever()
        log.append("self_cancel")

    async def holds_lock(event: Event[Any]) -> None:
        async with lock:
            await anyio.sleep(0)
            await gate[0].wait()
            log.append("lock-holder")

    async def waits_for_lock(event: Event[Any]) -> None:
        async with lock:
            log.append("lock-waiter")

    async def with_task_group(event: Event[Any]) -> None:
        results: list[int] = []

        async def child(i: int) -> None:
            await anyio.sleep(0)
            results.append(i)

        async with anyio.create_task_group() as tg:
            for i in range(3):
                tg.start_soon(child, i)
        log.append(f"task_group {sorted(results)}")

    async def shielded(event: Event[Any]) -> None:
        with anyio.CancelScope(shield=True):
            await anyio.sleep(0)
            await gate[0].wait()
        log.append("shielded")

    def opens_gate(event: Event[Any]) -> None:
        gate[0].set()

    for listener in (
        with_fail_after,
        with_move_on_that_fires,
        cancels_its_own_scope,
        holds_lock,
        waits_for_lock,
        with_task_group,
        shielded,
    ):
        bus.on("go", listener)
    bus.on_any(opens_gate)
    expected = sorted(
        [
            "fail_after",
            "move_on cancelled_caught=True",
            "self_cancel",
            "lock-holder",
            "lock-waiter",
            "task_group [0, 1, 2]",
            "shielded",
        ]
    )
    for method in ("emit", "emit", "emit_serial", "emit", "emit"):
        log.clear()
        gate[0] = anyio.Event()
        if method == "emit_serial":  # one at a time: the gate must already be open
            gate[0].set()
        with anyio.fail_after(GUARD):
            await getattr(bus, method)("go")
        assert sorted(log) == expected
        assert log.index("lock-holder") < log.index("lock-waiter")


async def test_a_listener_may_emit_other_events_and_await_them() -> None:
    bus = Emittery()
    log: list[str] = []

    async def outer(event: Event[Any]) -> None:
        with anyio.fail_after(60):
            await anyio.sleep(0)
            await bus.emit("inner", event.data)
        log.append(f"outer {event.data}")

    async def inner(event: Event[Any]) -> None:
        with anyio.CancelScope():
            await anyio.sleep(0)
        log.append(f"inner {event.data}")

    bus.on("outer", outer)
    bus.on("inner", inner)
    bus.on("inner", lambda event: log.append(f"inner-sync {event.data}"))
    with anyio.fail_after(GUARD):
        await bus.emit("outer", 1)
        await bus.emit_serial("outer", 2)
    # Each outer listener finishes after both inner ones (it awaited the inner emit); the
    # order of the two inner ones after the first suspends is not part of the contract.
    assert sorted(log[:3]) == ["inner 1", "inner-sync 1", "outer 1"]
    assert log[2] == "outer 1"
    assert sorted(log[3:]) == ["inner 2", "inner-sync 2", "outer 2"]
    assert log[5] == "outer 2"


async def test_emit_from_inside_a_callers_cancel_scope_and_task_group() -> None:
    """The publisher's own scopes survive an emit whose listeners suspend."""
    bus = Emittery()
    log: list[str] = []

    async def listener(event: Event[Any]) -> None:
        with anyio.CancelScope():
            await anyio.sleep(0)
        log.append(f"listener {event.data}")

    bus.on("go", listener)

    async def publisher(i: int) -> None:
        with anyio.fail_after(60):
            await bus.emit("go", i)
            await anyio.sleep(0)
        log.append(f"publisher {i}")

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            for i in range(4):
                tg.start_soon(publisher, i)
    expected = [f"listener {i}" for i in range(4)] + [f"publisher {i}" for i in range(4)]
    assert sorted(log) == sorted(expected)


# --- scale and nesting ------------------------------------------------------------------------


async def test_hundreds_of_suspending_listeners_all_run_concurrently() -> None:
    bus = Emittery()
    n = 300
    gate = anyio.Event()
    arrived: list[int] = []
    finished: list[int] = []

    def make(i: int) -> Any:
        async def listener(event: Event[Any]) -> None:
            arrived.append(i)
            if len(arrived) == n:
                gate.set()
            await gate.wait()
            finished.append(i)

        return listener

    for i in range(n):
        bus.on("go", make(i))
    for _ in range(2000):  # and many that never suspend
        bus.on_any(lambda event: None)
    with anyio.fail_after(GUARD):
        await bus.emit("go")
    assert arrived == list(range(n))
    assert sorted(finished) == list(range(n))


async def test_nested_emit_from_a_listener_that_started_after_a_suspended_one() -> None:
    """The second listener starts while the first is suspended, then emits and awaits."""
    bus = Emittery()
    log: list[str] = []
    first_may_finish = [anyio.Event()]

    async def first(event: Event[Any]) -> None:
        await first_may_finish[0].wait()
        log.append("first")

    async def second(event: Event[Any]) -> None:
        with anyio.fail_after(60):
            await anyio.sleep(0)
            await bus.emit("inner")
        log.append("second")
        first_may_finish[0].set()

    async def inner(event: Event[Any]) -> None:
        with anyio.CancelScope():
            await anyio.sleep(0)
        async with anyio.create_task_group() as tg:
            tg.start_soon(anyio.sleep, 0)
        log.append("inner")

    bus.on("outer", first)
    bus.on("outer", second)
    bus.on("inner", inner)
    with anyio.fail_after(GUARD):
        for _ in range(3):
            first_may_finish[0] = anyio.Event()
            await bus.emit("outer")
    assert log == ["inner", "second", "first"] * 3


async def test_cancelling_emit_reaches_listeners_inside_a_nested_emit() -> None:
    bus = Emittery()
    cancelled: list[str] = []

    async def first(event: Event[Any]) -> None:
        await anyio.sleep_forever()

    async def second(event: Event[Any]) -> None:
        await bus.emit("inner")

    async def inner(event: Event[Any]) -> None:
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.append("inner")
            raise

    bus.on("outer", first)
    bus.on("outer", second)
    bus.on("inner", inner)
    bus.on("inner", inner2 := (lambda event: None))
    for _ in range(2):
        cancelled.clear()
        with anyio.fail_after(GUARD), anyio.move_on_after(0.05) as scope:
            await bus.emit("outer")
        assert scope.cancelled_caught
        assert cancelled == ["inner"]
    bus.off("inner", inner2)
    bus.clear_listeners("outer")
    bus.on("outer", lambda event: cancelled.append("usable"))
    await bus.emit("outer")
    assert cancelled == ["inner", "usable"]


async def test_listeners_may_use_worker_threads() -> None:
    """Blocking work via `anyio.to_thread` (and back via `anyio.from_thread`) from listeners
    started in the publisher's task and from those started after a suspended one."""
    bus = Emittery()
    log: list[str] = []

    def blocking(tag: str) -> str:
        anyio.from_thread.run(anyio.sleep, 0)
        return tag

    def make(tag: str) -> Any:
        async def listener(event: Event[Any]) -> None:
            log.append(await anyio.to_thread.run_sync(blocking, tag))

        return listener

    for tag in ("first", "second", "third"):
        bus.on("go", make(tag))
    bus.on_any(make("any"))
    with anyio.fail_after(GUARD):
        await bus.emit("go")
        await bus.emit_serial("go")
    assert sorted(log) == sorted(["first", "second", "third", "any"] * 2)
    assert log[4:] == ["first", "second", "third", "any"]
