"""Subscriber modes `sync` / `async` / `serial` (DESIGN §4 "Subscriber modes").

- sync (default): `emit` returns once the listener finished (Emittery's behaviour);
- async: `emit` returns at once; the listener runs in the background; deliveries to one
  listener may overlap;
- serial: like async, but the subscriber takes its events one at a time, in emit order, across
  emits; its queue goes on after a failed delivery;
- background work runs in the bus's own task group (`async with Emittery() as bus:`); leaving
  the block drains pending deliveries; an `emit` that reaches an async or serial listener while
  the emitter is not started (before or after the block) raises a RuntimeError saying how to
  start it; errors in async/serial listeners are logged (stdlib logger `tidings`, with the event
  name and the listener) and never reach the publisher.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest

from tidings.runtime import Emittery, Event, Mode

pytestmark = pytest.mark.anyio

GUARD = 10  # deadlock guard only, never asserted on
BACKGROUND: list[Mode] = ["async", "serial"]


def noop(event: Event[Any]) -> None:
    return None


def tidings_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if (r.name == "tidings" or r.name.startswith("tidings.")) and r.levelno >= logging.WARNING
    ]


def record_text(record: logging.LogRecord) -> str:
    return record.getMessage() + "\n" + (record.exc_text or "")


# --- sync (default) ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [None, "sync"])
async def test_sync_mode_is_awaited_by_emit_without_starting_the_emitter(mode: str | None) -> None:
    bus = Emittery()
    done: list[int] = []

    async def listener(event: Event[Any]) -> None:
        for _ in range(3):
            await anyio.sleep(0)
        done.append(event.data)

    if mode is None:
        bus.on("go", listener)
    else:
        bus.on("go", listener, mode="sync")
    await bus.emit("go", 1)
    assert done == [1]
    async with bus:
        await bus.emit("go", 2)
        assert done == [1, 2]
    await bus.emit("go", 3)  # after the block too
    assert done == [1, 2, 3]


async def test_sync_mode_errors_still_reach_the_publisher_inside_the_block() -> None:
    bus = Emittery()
    error = ValueError("sync")

    def fails(event: Event[Any]) -> None:
        raise error

    bus.on("go", fails, mode="sync")
    async with bus:
        with pytest.raises(ExceptionGroup) as caught:
            await bus.emit("go")
    assert caught.value.exceptions == (error,)


# --- not started -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["emit", "emit_serial"])
@pytest.mark.parametrize("mode", BACKGROUND)
async def test_background_mode_on_an_emitter_not_started_says_how_to_start_it(
    mode: Mode, method: str
) -> None:
    bus = Emittery()
    bus.on("go", noop, mode=mode)  # subscribing is allowed at any time
    with pytest.raises(RuntimeError, match="async with"):
        await getattr(bus, method)("go")


@pytest.mark.parametrize("mode", BACKGROUND)
async def test_background_mode_after_the_block_raises_runtime_error(mode: Mode) -> None:
    bus = Emittery()
    received: list[Any] = []
    bus.on("go", lambda event: received.append(event.data), mode=mode)
    async with bus:
        await bus.emit("go", 1)
    assert received == [1]
    with pytest.raises(RuntimeError, match="async with"):
        await bus.emit("go", 2)
    bus.on("later", lambda event: received.append(event.data), mode=mode)  # still allowed
    with pytest.raises(RuntimeError, match="async with"):
        await bus.emit("later", 3)
    assert received == [1]


@pytest.mark.parametrize("mode", BACKGROUND)
async def test_events_that_reach_no_background_listener_need_no_start(mode: Mode) -> None:
    """Only an emit that reaches a background listener needs the emitter started."""
    bus = Emittery()
    received: list[str] = []
    bus.on("background", noop, mode=mode)
    bus.on("plain", lambda event: received.append(event.name))
    await bus.emit("plain")
    assert received == ["plain"]


@pytest.mark.parametrize("mode", BACKGROUND)
async def test_subscribing_before_the_block_then_emitting_inside_works(mode: Mode) -> None:
    bus = Emittery()
    received: list[Any] = []
    bus.on("go", lambda event: received.append(event.data), mode=mode)
    async with bus:
        await bus.emit("go", "inside")
    assert received == ["inside"]


# --- async ---------------------------------------------------------------------------------------


async def test_async_mode_emit_returns_while_the_listener_is_still_running() -> None:
    gate = anyio.Event()
    finished = anyio.Event()
    received: list[Any] = []

    async def listener(event: Event[Any]) -> None:
        await gate.wait()
        received.append(event.data)
        finished.set()

    with anyio.fail_after(GUARD):
        async with Emittery() as bus:
            bus.on("go", listener, mode="async")
            await bus.emit("go", 1)  # would deadlock if it waited for the listener
            assert received == []
            gate.set()
            await finished.wait()
    assert received == [1]


async def test_async_mode_deliveries_to_one_listener_may_overlap() -> None:
    """Delivery 1 waits for something only delivery 2 does: both must be in flight at once."""
    second_arrived = anyio.Event()
    finished: list[int] = []

    async def listener(event: Event[Any]) -> None:
        if event.data == 1:
            await second_arrived.wait()
        else:
            second_arrived.set()
        finished.append(event.data)

    with anyio.fail_after(GUARD):
        async with Emittery() as bus:
            bus.on("go", listener, mode="async")
            await bus.emit("go", 1)
            await bus.emit("go", 2)
    assert sorted(finished) == [1, 2]


async def test_async_mode_listener_errors_are_logged_and_never_reach_the_publisher(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="tidings")
    done = anyio.Event()

    async def exploding_async_listener(event: Event[Any]) -> None:
        await anyio.sleep(0)
        raise ValueError("boom-async")

    def after(event: Event[Any]) -> None:
        done.set()

    with anyio.fail_after(GUARD):
        async with Emittery() as bus:
            bus.on("shipmentCreated", exploding_async_listener, mode="async")
            bus.on("shipmentCreated", after, mode="async")
            assert await bus.emit("shipmentCreated", 1) is None  # type: ignore[func-returns-value]
            await done.wait()
            await bus.emit("shipmentCreated", 2)  # the emitter keeps working
    errors = tidings_errors(caplog)
    assert len(errors) == 2, [record_text(r) for r in errors]
    for record in errors:
        text = record_text(record)
        assert "shipmentCreated" in text
        assert "exploding_async_listener" in text
        assert "boom-async" in text


async def test_async_mode_sync_callable_runs_in_the_background() -> None:
    received: list[Any] = []
    async with Emittery() as bus:
        bus.on("go", lambda event: received.append(event.data), mode="async")
        await bus.emit("go", 1)
        await bus.emit_serial("go", 2)
    assert sorted(received) == [1, 2]


# --- serial --------------------------------------------------------------------------------------


async def test_serial_mode_one_at_a_time_in_emit_order_across_emits() -> None:
    log: list[str] = []
    active = [0]
    peak = [0]

    async def listener(event: Event[Any]) -> None:
        active[0] += 1
        peak[0] = max(peak[0], active[0])
        log.append(f"start {event.data}")
        for _ in range(3):
            await anyio.sleep(0)
        log.append(f"end {event.data}")
        active[0] -= 1

    with anyio.fail_after(GUARD):
        async with Emittery() as bus:
            bus.on("go", listener, mode="serial")
            for i in range(5):
                await bus.emit("go", i)
            await bus.emit_serial("go", 5)
    assert peak[0] == 1
    assert log == [f"{what} {i}" for i in range(6) for what in ("start", "end")]


async def test_serial_mode_emit_returns_at_once() -> None:
    gate = anyio.Event()
    received: list[Any] = []

    async def listener(event: Event[Any]) -> None:
        await gate.wait()
        received.append(event.data)

    with anyio.fail_after(GUARD):
        async with Emittery() as bus:
            bus.on("go", listener, mode="serial")
            for i in range(3):
                await bus.emit("go", i)  # would deadlock if it waited for the listener
            assert received == []
            gate.set()
    assert received == [0, 1, 2]


async def test_serial_mode_keeps_emit_order_from_concurrent_publishers() -> None:
    """The FIFO is per subscriber and follows the order in which `emit` was called."""
    received: list[Any] = []

    async def listener(event: Event[Any]) -> None:
        await anyio.sleep(0)
        received.append(event.data)

    with anyio.fail_after(GUARD):
        async with Emittery() as bus:
            bus.on("go", listener, mode="serial")
            order: list[int] = []

            async def publish(i: int) -> None:
                order.append(i)
                await bus.emit("go", i)

            async with anyio.create_task_group() as tg:
                for i in range(8):
                    tg.start_soon(publish, i)
    assert received == order


async def test_serial_subscribers_are_independent_of_each_other() -> None:
    """One serial subscriber waiting does not hold up another."""
    gate = anyio.Event()
    log: list[str] = []

    async def waits(event: Event[Any]) -> None:
        await gate.wait()
        log.append("waits")

    async def opens(event: Event[Any]) -> None:
        await anyio.sleep(0)
        gate.set()
        log.append("opens")

    with anyio.fail_after(GUARD):
        async with Emittery() as bus:
            bus.on("go", waits, mode="serial")
            bus.on("go", opens, mode="serial")
            await bus.emit("go")
    assert log == ["opens", "waits"]


async def test_serial_queue_goes_on_after_a_failed_delivery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="tidings")
    received: list[Any] = []

    async def flaky_serial_listener(event: Event[Any]) -> None:
        await anyio.sleep(0)
        if event.data == 1:
            raise KeyError("boom-serial")
        received.append(event.data)

    with anyio.fail_after(GUARD):
        async with Emittery() as bus:
            bus.on("crmSync", flaky_serial_listener, mode="serial")
            for i in range(4):
                assert await bus.emit("crmSync", i) is None  # type: ignore[func-returns-value]
    assert received == [0, 2, 3]
    errors = tidings_errors(caplog)
    assert len(errors) == 1, [record_text(r) for r in errors]
    text = record_text(errors[0])
    assert "crmSync" in text
    assert "flaky_serial_listener" in text
    assert "boom-serial" in text


# --- the bus's task group ----------------------------------------------------------------------


async def test_leaving_the_block_drains_every_pending_delivery() -> None:
    received: dict[str, list[Any]] = {"async": [], "serial": []}

    def make(mode: Mode) -> Any:
        async def listener(event: Event[Any]) -> None:
            for _ in range(5):
                await anyio.sleep(0)
            received[mode].append(event.data)

        return listener

    with anyio.fail_after(GUARD):
        async with Emittery() as bus:
            bus.on("go", make("async"), mode="async")
            bus.on("go", make("serial"), mode="serial")
            for i in range(20):
                await bus.emit("go", i)
            assert len(received["serial"]) < 20  # still pending when the block ends
    assert sorted(received["async"]) == list(range(20))
    assert received["serial"] == list(range(20))


async def test_leaving_the_block_waits_for_a_slow_delivery() -> None:
    done: list[str] = []

    async def slow_async(event: Event[Any]) -> None:
        await anyio.sleep(0.05)
        done.append("async")

    async def slow_serial(event: Event[Any]) -> None:
        await anyio.sleep(0.05)
        done.append("serial")

    with anyio.fail_after(GUARD):
        async with Emittery() as bus:
            bus.on("go", slow_async, mode="async")
            bus.on("go", slow_serial, mode="serial")
            await bus.emit("go")
            assert done == []
    assert sorted(done) == ["async", "serial"]


async def test_background_errors_do_not_break_the_block(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="tidings")

    async def fails(event: Event[Any]) -> None:
        raise ValueError("x")

    def fails_sync(event: Event[Any]) -> None:
        raise ValueError("y")

    async with Emittery() as bus:
        bus.on("a", fails, mode="async")
        bus.on("b", fails_sync, mode="serial")
        for _ in range(3):
            await bus.emit("a")
            await bus.emit("b")
    assert len(tidings_errors(caplog)) == 6


async def test_mixed_modes_in_one_emit() -> None:
    """The sync listener is awaited and its error raised; background ones run regardless."""
    log: list[str] = []
    background_done = anyio.Event()
    error = ValueError("sync failure")

    def sync_fails(event: Event[Any]) -> None:
        log.append("sync")
        raise error

    async def in_background(event: Event[Any]) -> None:
        await anyio.sleep(0)
        log.append("async")
        background_done.set()

    def serial(event: Event[Any]) -> None:
        log.append("serial")

    with anyio.fail_after(GUARD):
        async with Emittery() as bus:
            bus.on("go", in_background, mode="async")
            bus.on("go", sync_fails)
            bus.on("go", serial, mode="serial")
            with pytest.raises(ExceptionGroup) as caught:
                await bus.emit("go")
            assert caught.value.exceptions == (error,)
            await background_done.wait()
    assert sorted(log) == ["async", "serial", "sync"]


@pytest.mark.parametrize("mode", BACKGROUND)
async def test_any_kind_of_background_listener_may_use_scopes_and_locks(mode: Mode) -> None:
    lock = anyio.Lock()
    log: list[Any] = []

    async def listener(event: Event[Any]) -> None:
        with anyio.fail_after(60):
            async with lock:
                await anyio.sleep(0)
                with anyio.move_on_after(0.01) as scope:
                    await anyio.sleep_forever()
                assert scope.cancelled_caught
        async with anyio.create_task_group() as tg:
            tg.start_soon(anyio.sleep, 0)
        log.append(event.data)

    with anyio.fail_after(GUARD):
        async with Emittery() as bus:
            bus.on("go", listener, mode=mode)
            for i in range(4):
                await bus.emit("go", i)
    assert sorted(log) == [0, 1, 2, 3]
    if mode == "serial":
        assert log == [0, 1, 2, 3]


@pytest.mark.parametrize("mode", BACKGROUND)
async def test_unsubscribing_a_background_listener(mode: Mode) -> None:
    received: list[Any] = []
    delivered = anyio.Event()

    def listener(event: Event[Any]) -> None:
        received.append(event.data)
        delivered.set()

    async with Emittery() as bus:
        off = bus.on("go", listener, mode=mode)
        await bus.emit("go", 1)
        with anyio.fail_after(GUARD):
            await delivered.wait()
        off()
        assert bus.listener_count("go") == 0
        await bus.emit("go", 2)  # nobody listens: fine even for a background listener gone
    assert received == [1]


@pytest.mark.parametrize("mode", BACKGROUND)
async def test_an_emit_refused_for_not_being_started_delivers_nothing(mode: Mode) -> None:
    """The RuntimeError is the whole outcome: no sync listener ran, no iterator got the event,
    so emitting again once started does not deliver it twice."""
    bus = Emittery()
    sync_calls: list[Any] = []

    def background(event: Event[Any]) -> None:
        return None

    bus.on("go", lambda event: sync_calls.append(event.data))
    bus.on("go", background, mode=mode)
    iterator = bus.events("go")
    any_iterator = bus.any_event()
    with pytest.raises(RuntimeError, match="async with"):
        await bus.emit("go", "refused")
    with pytest.raises(RuntimeError, match="async with"):
        await bus.emit_serial("go", "refused")
    assert sync_calls == []
    async with bus:
        await bus.emit("go", "accepted")
    assert sync_calls == ["accepted"]
    assert await iterator.__anext__() == Event("go", "accepted")
    assert await any_iterator.__anext__() == Event("go", "accepted")
    await iterator.aclose()
    await any_iterator.aclose()


async def test_leaving_the_block_drains_deliveries_queued_by_deliveries() -> None:
    """Background listeners that emit to background listeners (and a serial one to itself)."""
    log: list[str] = []

    with anyio.fail_after(GUARD):
        async with Emittery() as bus:

            async def first(event: Event[Any]) -> None:
                await anyio.sleep(0)
                log.append("first")
                await bus.emit("second", 0)

            async def second(event: Event[Any]) -> None:
                await anyio.sleep(0)
                log.append(f"second {event.data}")
                if event.data < 3:
                    await bus.emit("second", event.data + 1)

            async def third(event: Event[Any]) -> None:
                await anyio.sleep(0)
                log.append(f"third {event.data}")

            bus.on("first", first, mode="async")
            bus.on("second", second, mode="serial")
            bus.on("second", third, mode="async")
            await bus.emit("first")
    assert log[0] == "first"
    assert [e for e in log if e.startswith("second")] == [f"second {i}" for i in range(4)]
    assert sorted(e for e in log if e.startswith("third")) == [f"third {i}" for i in range(4)]


async def test_cancelling_the_host_stops_background_work_without_hanging() -> None:
    cancelled: list[str] = []

    async def forever(event: Event[Any]) -> None:
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.append(event.name)
            raise

    with anyio.fail_after(GUARD):
        # cancelled while the block body runs
        with anyio.move_on_after(0.05) as scope:
            async with Emittery() as bus:
                bus.on("a", forever, mode="async")
                bus.on("s", forever, mode="serial")
                await bus.emit("a")
                await bus.emit("s")
                await anyio.sleep_forever()
        assert scope.cancelled_caught
        assert sorted(cancelled) == ["a", "s"]
        # cancelled while leaving the block waits for a delivery that never ends
        cancelled.clear()
        with anyio.move_on_after(0.05) as scope:
            async with Emittery() as bus:
                bus.on("a", forever, mode="async")
                await bus.emit("a")
        assert scope.cancelled_caught
        assert cancelled == ["a"]


async def test_a_serial_subscription_to_several_names_is_one_fifo() -> None:
    """One `on([...], crm_sync, mode="serial")` is one subscriber: one call at a time, in emit
    order, whatever the name (the talk's CRM that cannot take concurrent calls)."""
    log: list[str] = []
    active = [0]
    peak = [0]

    async def crm_sync(event: Event[Any]) -> None:
        active[0] += 1
        peak[0] = max(peak[0], active[0])
        for _ in range(3):
            await anyio.sleep(0)
        log.append(f"{event.name} {event.data}")
        active[0] -= 1

    with anyio.fail_after(GUARD):
        async with Emittery() as bus:
            bus.on(["shipmentCreated", "shipmentDeparted"], crm_sync, mode="serial")
            await bus.emit("shipmentCreated", 1)
            await bus.emit("shipmentDeparted", 1)
            await bus.emit("shipmentCreated", 2)
            await bus.emit("shipmentDeparted", 2)
    assert peak[0] == 1
    assert log == ["shipmentCreated 1", "shipmentDeparted 1", "shipmentCreated 2", "shipmentDeparted 2"]


@pytest.mark.parametrize("mode", BACKGROUND)
async def test_a_queued_delivery_runs_even_if_its_listener_unsubscribes_first(mode: Mode) -> None:
    """README: a delivery queued by `emit` was accepted; unsubscribing stops later ones only."""
    received: list[Any] = []

    def listener(event: Event[Any]) -> None:
        received.append(event.data)

    with anyio.fail_after(GUARD):
        async with Emittery() as bus:
            bus.on("go", listener, mode=mode)
            await bus.emit("go", 1)
            bus.off("go", listener)
            await bus.emit("go", 2)
    assert received == [1]


async def test_two_serial_subscriptions_of_one_function_share_its_fifo() -> None:
    """README: one FIFO per listener function, shared by every name it is subscribed to."""
    log: list[str] = []
    active = [0]
    peak = [0]

    async def crm_sync(event: Event[Any]) -> None:
        active[0] += 1
        peak[0] = max(peak[0], active[0])
        await anyio.sleep(0)
        await anyio.sleep(0)
        log.append(f"{event.name} {event.data}")
        active[0] -= 1

    with anyio.fail_after(GUARD):
        async with Emittery() as bus:
            bus.on("a", crm_sync, mode="serial")
            bus.on("b", crm_sync, mode="serial")
            for i in range(3):
                await bus.emit("a", i)
                await bus.emit("b", i)
    assert peak[0] == 1
    assert log == [f"{name} {i}" for i in range(3) for name in ("a", "b")]


async def test_resubscribing_a_listener_with_another_mode_is_a_value_error() -> None:
    bus = Emittery()
    bus.on("go", noop)
    with pytest.raises(ValueError):
        bus.on("go", noop, mode="async")
    with pytest.raises(ValueError):
        bus.on(["other", "go"], noop, mode="serial")
    assert bus.listener_count("go") == 1
    assert bus.listener_count("other") == 0
    bus.on("go", noop, mode="sync")  # the same mode again: one subscription, no error
    assert bus.listener_count("go") == 1
