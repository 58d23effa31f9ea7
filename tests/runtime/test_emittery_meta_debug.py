"""Meta events (`LISTENER_ADDED` / `LISTENER_REMOVED`) and debug logging (DESIGN §4).

Decisions tested: meta events reach plain listeners, `once` and `events(LISTENER_ADDED)` without
the emitter being started; `on_any` and `any_event()` never see them; their data has
`event_name` (None for on_any/off_any) and `listener`; user code cannot emit them (Emittery).
Debug: `bus.debug.enabled` defaults to False and toggles at run time; the logger is called
positionally as `(type, debug_name, event_name, event_data)`; `clear_listeners()` logs
`("clear", debug_name, None, None)`; meta events are never logged; the default logger writes to
the stdlib logger `tidings` at DEBUG.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import anyio
import pytest

from tidings.runtime import LISTENER_ADDED, LISTENER_REMOVED, DebugOptions, Emittery, Event

pytestmark = pytest.mark.anyio

GUARD = 10  # deadlock guard only, never asserted on


def noop(event: Event[Any]) -> None:
    return None


def other(event: Event[Any]) -> None:
    return None


def field(data: Any, key: str) -> Any:
    """Meta event data: attribute access, or a mapping (DESIGN only says it 'has' the fields)."""
    if isinstance(data, Mapping):
        return data[key]
    return getattr(data, key)


def meta(event: Event[Any]) -> tuple[str, Any, Any]:
    return (event.name, field(event.data, "event_name"), field(event.data, "listener"))


async def settle() -> None:
    await anyio.wait_all_tasks_blocked()


# --- meta events -----------------------------------------------------------------------------


async def test_meta_event_names_are_distinct_strings() -> None:
    assert isinstance(LISTENER_ADDED, str)
    assert isinstance(LISTENER_REMOVED, str)
    assert LISTENER_ADDED != LISTENER_REMOVED


async def test_listener_added_reaches_a_plain_listener_with_name_and_listener() -> None:
    bus = Emittery()  # never started
    received: list[Event[Any]] = []
    bus.on(LISTENER_ADDED, received.append)
    bus.on("abc", noop)
    await settle()
    assert [meta(e) for e in received] == [(LISTENER_ADDED, "abc", noop)]
    assert field(received[0].data, "listener") is noop


async def test_listener_removed_on_off_and_on_the_unsubscribe_callable() -> None:
    bus = Emittery()
    received: list[Event[Any]] = []
    bus.on(LISTENER_REMOVED, received.append)
    off = bus.on("abc", noop)
    bus.on("def", other)
    bus.off("def", other)
    off()
    await settle()
    assert [meta(e) for e in received] == [
        (LISTENER_REMOVED, "def", other),
        (LISTENER_REMOVED, "abc", noop),
    ]


async def test_one_meta_event_per_name_of_a_multi_name_subscription() -> None:
    bus = Emittery()
    added: list[Event[Any]] = []
    removed: list[Event[Any]] = []
    bus.on(LISTENER_ADDED, added.append)
    bus.on(LISTENER_REMOVED, removed.append)
    off = bus.on(["a", "b"], noop)
    off()
    await settle()
    assert sorted(field(e.data, "event_name") for e in added) == ["a", "b"]
    assert sorted(field(e.data, "event_name") for e in removed) == ["a", "b"]


async def test_on_any_and_off_any_announce_event_name_none() -> None:
    bus = Emittery()
    received: list[Event[Any]] = []
    bus.on([LISTENER_ADDED, LISTENER_REMOVED], received.append)
    bus.on_any(noop)
    bus.off_any(noop)
    off = bus.on_any(other)
    off()
    await settle()
    assert [meta(e) for e in received] == [
        (LISTENER_ADDED, None, noop),
        (LISTENER_REMOVED, None, noop),
        (LISTENER_ADDED, None, other),
        (LISTENER_REMOVED, None, other),
    ]


async def test_a_coroutine_meta_listener_that_does_not_suspend_is_a_plain_listener() -> None:
    bus = Emittery()
    received: list[Any] = []

    async def meta_listener(event: Event[Any]) -> None:
        received.append(field(event.data, "event_name"))

    bus.on(LISTENER_ADDED, meta_listener)
    bus.on("abc", noop)
    await settle()
    assert received == ["abc"]


async def test_meta_events_only_when_a_subscription_really_changes() -> None:
    bus = Emittery()
    received: list[tuple[str, Any, Any]] = []
    bus.on([LISTENER_ADDED, LISTENER_REMOVED], lambda event: received.append(meta(event)))
    bus.on("a", noop)
    bus.on("a", noop)  # already subscribed
    bus.on_any(other)
    bus.on_any(other)  # already subscribed
    bus.off("a", other)  # never subscribed to "a"
    bus.off("a", noop)
    bus.off("a", noop)  # already removed
    bus.off_any(other)
    bus.off_any(other)  # already removed
    await settle()
    assert received == [
        (LISTENER_ADDED, "a", noop),
        (LISTENER_ADDED, None, other),
        (LISTENER_REMOVED, "a", noop),
        (LISTENER_REMOVED, None, other),
    ]


async def test_meta_event_names_are_not_their_spelling() -> None:
    """Like JS symbols: a plain string spelled like a meta event is an ordinary event."""
    bus = Emittery()
    plain = str(LISTENER_ADDED)
    assert type(plain) is str
    assert plain != LISTENER_ADDED
    assert str(LISTENER_REMOVED) != LISTENER_REMOVED
    meta_seen: list[Event[Any]] = []
    plain_seen: list[Event[Any]] = []
    bus.on(LISTENER_ADDED, meta_seen.append)
    bus.on(plain, plain_seen.append)  # a plain subscription: announced on the meta event
    await bus.emit(plain, "mine")  # user code may emit it: it is not the meta event
    await settle()
    assert plain_seen == [Event(plain, "mine")]
    assert [meta(e)[1] for e in meta_seen] == [plain]


async def test_once_listener_added_without_the_emitter_started() -> None:
    bus = Emittery()
    box: list[Event[Any]] = []

    async def wait() -> None:
        box.append(await bus.once(LISTENER_ADDED))

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(wait)
            await settle()
            bus.on("abc", noop)
    assert [meta(e) for e in box] == [(LISTENER_ADDED, "abc", noop)]


async def test_once_listener_removed() -> None:
    bus = Emittery()
    bus.on("abc", noop)
    box: list[Event[Any]] = []

    async def wait() -> None:
        box.append(await bus.once(LISTENER_REMOVED))

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(wait)
            await settle()
            bus.off("abc", noop)
    assert [meta(e) for e in box] == [(LISTENER_REMOVED, "abc", noop)]


async def test_events_of_listener_added_buffers_meta_events() -> None:
    bus = Emittery()
    iterator = bus.events(LISTENER_ADDED)
    bus.on("a", noop)
    bus.on_any(other)
    first = await iterator.__anext__()
    second = await iterator.__anext__()
    assert [meta(first), meta(second)] == [(LISTENER_ADDED, "a", noop), (LISTENER_ADDED, None, other)]
    await iterator.aclose()


async def test_subscribing_to_a_meta_event_does_not_fire_meta_events() -> None:
    bus = Emittery()
    received: list[Event[Any]] = []
    bus.on(LISTENER_ADDED, received.append)
    bus.on(LISTENER_REMOVED, received.append)
    bus.on(LISTENER_ADDED, noop)
    bus.off(LISTENER_ADDED, noop)
    await settle()
    assert received == []


async def test_an_unsubscribed_meta_listener_is_not_called() -> None:
    bus = Emittery()
    received: list[Event[Any]] = []
    off = bus.on(LISTENER_ADDED, received.append)
    off()
    bus.on("a", noop)
    await bus.emit("a")
    await settle()
    assert received == []


async def test_any_listeners_and_any_event_never_see_meta_events() -> None:
    bus = Emittery()
    seen: list[str] = []
    bus.on_any(lambda event: seen.append(event.name))
    iterator = bus.any_event()
    off = bus.on("a", noop)
    off()
    bus.on_any(other)
    bus.off_any(other)
    await bus.emit("real")
    await settle()
    assert seen == ["real"]
    assert await iterator.__anext__() == Event("real", None)
    await iterator.aclose()
    # nothing else was buffered: after aclose the iterator just ends
    with pytest.raises(StopAsyncIteration):
        await iterator.__anext__()


async def test_any_event_buffer_holds_no_meta_events() -> None:
    bus = Emittery()
    iterator = bus.any_event()
    bus.on("a", noop)
    bus.off("a", noop)
    await bus.emit("after", 1)
    assert await iterator.__anext__() == Event("after", 1)
    await iterator.aclose()


@pytest.mark.parametrize("method", ["emit", "emit_serial"])
@pytest.mark.parametrize("name", [LISTENER_ADDED, LISTENER_REMOVED])
async def test_user_code_cannot_emit_meta_events(method: str, name: str) -> None:
    bus = Emittery()
    received: list[Event[Any]] = []
    bus.on(name, received.append)
    with pytest.raises(TypeError):
        await getattr(bus, method)(name, {"event_name": "x", "listener": noop})
    assert received == []


async def test_subscribing_in_async_mode_announces_without_the_emitter_started() -> None:
    bus = Emittery()
    received: list[Event[Any]] = []
    bus.on(LISTENER_ADDED, received.append)
    bus.on("a", noop, mode="async")
    bus.on("b", other, mode="serial")
    await settle()
    assert [meta(e) for e in received] == [(LISTENER_ADDED, "a", noop), (LISTENER_ADDED, "b", other)]


async def test_once_announces_its_own_subscription() -> None:
    bus = Emittery()
    added: list[Any] = []
    removed: list[Any] = []
    bus.on(LISTENER_ADDED, lambda e: added.append(field(e.data, "event_name")))
    bus.on(LISTENER_REMOVED, lambda e: removed.append(field(e.data, "event_name")))
    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:

            async def wait() -> None:
                await bus.once("abc")

            tg.start_soon(wait)
            await settle()
            assert added == ["abc"]
            await bus.emit("abc")
    await settle()
    assert removed == ["abc"]


# --- debug -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_global_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a global debug switch (Emittery's `isDebugEnabled`, e.g. from DEBUG=*) out of the
    per-instance assertions below."""
    monkeypatch.setattr(Emittery, "is_debug_enabled", False, raising=False)


class Recorder:
    """A debug logger that insists on being called positionally."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        assert kwargs == {}, f"logger called with keywords {kwargs}"
        assert len(args) == 4, f"logger called with {args}"
        self.calls.append(args)


def debug_bus(enabled: bool = True) -> tuple[Emittery, Recorder]:
    logger = Recorder()
    return Emittery(debug=DebugOptions(name="testEmitter", enabled=enabled, logger=logger)), logger


async def test_debug_is_off_by_default() -> None:
    assert Emittery().debug.enabled is False
    logger = Recorder()
    bus = Emittery(debug=DebugOptions(name="quiet", logger=logger))
    assert bus.debug.enabled is False
    bus.on("test", noop)
    await bus.emit("test", "data")
    assert logger.calls == []


async def test_debug_options_take_name_enabled_logger_in_that_order() -> None:
    logger = Recorder()
    bus = Emittery(debug=DebugOptions("positional", True, logger))
    bus.on("test", noop)
    assert logger.calls == [("subscribe", "positional", "test", None)]


async def test_debug_logs_subscribe_positionally() -> None:
    bus, logger = debug_bus()
    bus.on("test", noop)
    assert logger.calls == [("subscribe", "testEmitter", "test", None)]


async def test_debug_logs_emit_with_data_and_never_meta_events() -> None:
    bus, logger = debug_bus()
    bus.on(LISTENER_ADDED, noop)  # a meta listener: the meta event it gets is not logged
    logger.calls.clear()
    bus.on("test", noop)
    await bus.emit("test", "data")
    assert logger.calls == [
        ("subscribe", "testEmitter", "test", None),
        ("emit", "testEmitter", "test", "data"),
    ]


async def test_debug_logs_unsubscribe() -> None:
    bus, logger = debug_bus()
    off = bus.on("test", noop)
    off()
    assert logger.calls == [
        ("subscribe", "testEmitter", "test", None),
        ("unsubscribe", "testEmitter", "test", None),
    ]


async def test_debug_logs_emit_serial() -> None:
    bus, logger = debug_bus()
    bus.on("test", noop)
    await bus.emit_serial("test", "data")
    assert len(logger.calls) == 2
    assert logger.calls[1] == ("emit_serial", "testEmitter", "test", "data")


async def test_debug_logs_subscribe_any_and_unsubscribe_any_without_a_name() -> None:
    bus, logger = debug_bus()
    off = bus.on_any(noop)
    off()
    assert logger.calls == [
        ("subscribe_any", "testEmitter", None, None),
        ("unsubscribe_any", "testEmitter", None, None),
    ]


async def test_debug_logs_clear_with_none_or_the_name() -> None:
    bus, logger = debug_bus()
    bus.on("test", noop)
    logger.calls.clear()
    bus.clear_listeners()
    assert logger.calls == [("clear", "testEmitter", None, None)]
    bus.on("test", noop)
    logger.calls.clear()
    bus.clear_listeners("test")
    assert logger.calls == [("clear", "testEmitter", "test", None)]


async def test_debug_can_be_toggled_at_run_time() -> None:
    bus, logger = debug_bus(enabled=False)
    bus.on("test", noop)
    await bus.emit("test", "before")
    assert logger.calls == []
    bus.debug.enabled = True
    await bus.emit("test", "during")
    bus.debug.enabled = False
    await bus.emit("test", "after")
    assert logger.calls == [("emit", "testEmitter", "test", "during")]


async def test_the_global_switch_turns_debug_on_for_every_instance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bus, logger = debug_bus(enabled=False)
    monkeypatch.setattr(Emittery, "is_debug_enabled", True)
    bus.on("test", noop)
    await bus.emit("test", 1)
    monkeypatch.setattr(Emittery, "is_debug_enabled", False)
    await bus.emit("test", 2)
    assert logger.calls == [
        ("subscribe", "testEmitter", "test", None),
        ("emit", "testEmitter", "test", 1),
    ]


async def test_default_debug_logger_writes_to_the_tidings_logger_and_survives_odd_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="tidings")
    bus = Emittery(debug=DebugOptions(name="dbgEmitter", enabled=True))
    circular: dict[str, Any] = {}
    circular["self"] = circular
    bus.on("circular-test", noop)
    await bus.emit("circular-test", circular)
    await bus.emit("circular-test", object())
    records = [
        r
        for r in caplog.records
        if (r.name == "tidings" or r.name.startswith("tidings."))
        and r.levelno == logging.DEBUG
        and "circular-test" in r.getMessage()
    ]
    assert records, [r.getMessage() for r in caplog.records]
    assert any("dbgEmitter" in r.getMessage() for r in records)
