"""`on` / `off` / `on_any` / `off_any` and the TypeError rules (DESIGN §4 "Emittery, in Python").

Ported from sindresorhus/emittery's test suite (on(), off(), onAny(), offAny(), the
"eventName must be a string" and "must have a listener" cases), in snake_case, with
listeners taking one `Event(name, data)`.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from typing import Any

import anyio
import pytest

from tidings.runtime import LISTENER_ADDED, Emittery, Event

pytestmark = pytest.mark.anyio


def recorder(calls: list[Any], tag: Any) -> Any:
    def listener(event: Event[Any]) -> None:
        calls.append(tag)

    return listener


# --- Event -----------------------------------------------------------------------------------


async def test_event_is_a_frozen_dataclass_with_name_and_data() -> None:
    event = Event("🦄", {"foo": True})
    assert (event.name, event.data) == ("🦄", {"foo": True})
    assert event == Event("🦄", {"foo": True})
    assert dataclasses.is_dataclass(event)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.name = "other"  # type: ignore[misc]


# --- on ----------------------------------------------------------------------------------------


async def test_on_calls_each_names_listeners_in_subscription_order() -> None:
    bus = Emittery()
    calls: list[int] = []
    bus.on("🦄", recorder(calls, 1))
    bus.on("🦄", recorder(calls, 2))
    bus.on("other", recorder(calls, 3))
    await bus.emit("🦄")
    await bus.emit("other")
    assert calls == [1, 2, 3]


async def test_listener_receives_one_event_with_the_name_and_the_very_data_object() -> None:
    bus = Emittery()
    received: list[Event[Any]] = []
    bus.on("🦄", received.append)
    payload = {"foo": True}
    await bus.emit("🦄", payload)
    assert received == [Event("🦄", payload)]
    assert received[0].data is payload


async def test_emit_without_data_delivers_none() -> None:
    bus = Emittery()
    received: list[Event[Any]] = []
    bus.on("🦄", received.append)
    await bus.emit("🦄")
    assert received == [Event("🦄", None)]


@pytest.mark.parametrize("names", [["🦄", "🐶", "🦊"], ("🦄", "🐶", "🦊")])
async def test_on_with_several_names_subscribes_to_each(names: Any) -> None:
    bus = Emittery()
    received: list[str] = []
    bus.on(names, lambda event: received.append(event.name))
    for name in ("🦄", "🐶", "🦊", "🐱"):
        await bus.emit(name)
    assert received == ["🦄", "🐶", "🦊"]


async def test_on_returns_an_unsubscribe_callable() -> None:
    bus = Emittery()
    calls: list[int] = []
    off = bus.on("🦄", recorder(calls, 1))
    await bus.emit("🦄")
    assert calls == [1]
    off()
    await bus.emit("🦄")
    assert calls == [1]
    assert bus.listener_count("🦄") == 0


async def test_unsubscribe_callable_is_idempotent_and_touches_nothing_else() -> None:
    bus = Emittery()
    calls: list[int] = []
    off = bus.on("🦄", recorder(calls, 1))
    bus.on("🦄", recorder(calls, 2))
    off()
    off()
    off()
    await bus.emit("🦄")
    assert calls == [2]
    assert bus.listener_count("🦄") == 1


async def test_unsubscribe_of_a_multi_name_subscription_removes_every_name() -> None:
    bus = Emittery()
    calls: list[str] = []
    off = bus.on(["a", "b"], lambda event: calls.append(event.name))
    off()
    await bus.emit("a")
    await bus.emit("b")
    assert calls == []
    assert bus.listener_count() == 0


async def test_same_listener_twice_on_one_name_is_one_subscription() -> None:
    bus = Emittery()
    calls: list[int] = []
    listener = recorder(calls, 1)
    bus.on("🦄", listener)
    bus.on("🦄", listener)
    bus.on("🦄", listener)
    assert bus.listener_count("🦄") == 1
    await bus.emit("🦄")
    assert calls == [1]
    bus.off("🦄", listener)
    await bus.emit("🦄")
    assert calls == [1]


async def test_a_bound_method_is_the_same_listener_each_time_it_is_looked_up() -> None:
    """`obj.method` builds a new (equal) object on each lookup: still one subscription."""
    bus = Emittery()
    calls: list[Any] = []
    handlers = Handlers(calls)
    bus.on("🦄", handlers.sync_method)
    bus.on("🦄", handlers.sync_method)
    assert bus.listener_count("🦄") == 1
    await bus.emit("🦄", 1)
    assert calls == [("sync-method", 1)]
    bus.off("🦄", handlers.sync_method)
    assert bus.listener_count("🦄") == 0


async def test_same_listener_on_two_names_is_two_subscriptions() -> None:
    bus = Emittery()
    calls: list[str] = []

    def listener(event: Event[Any]) -> None:
        calls.append(event.name)

    bus.on("a", listener)
    bus.on("b", listener)
    bus.off("a", listener)
    await bus.emit("a")
    await bus.emit("b")
    assert calls == ["b"]


async def test_empty_string_is_a_valid_event_name() -> None:
    bus = Emittery()
    calls: list[int] = []
    bus.on("", recorder(calls, 1))
    await bus.emit("")
    assert calls == [1]
    assert bus.listener_count("") == 1


class Names(enum.StrEnum):
    SHIPMENT_CREATED = "shipmentCreated"
    SHIPMENT_DEPARTED = "shipmentDeparted"


async def test_str_enum_members_are_names_equal_to_their_values() -> None:
    """Event names are `str`: a StrEnum member is one, and names the same event as its value."""
    bus = Emittery()
    received: list[str] = []
    bus.on(Names.SHIPMENT_CREATED, lambda event: received.append(f"enum {event.data}"))
    bus.on("shipmentCreated", lambda event: received.append(f"str {event.data}"))
    bus.on([Names.SHIPMENT_DEPARTED], lambda event: received.append(f"list {event.data}"))
    await bus.emit("shipmentCreated", 1)
    await bus.emit(Names.SHIPMENT_CREATED, 2)
    await bus.emit_serial("shipmentDeparted", 3)
    assert received == ["enum 1", "str 1", "enum 2", "str 2", "list 3"]
    assert bus.listener_count(Names.SHIPMENT_CREATED) == 2
    assert bus.listener_count("shipmentDeparted") == 1


# --- kinds of listeners --------------------------------------------------------------------


class SyncCallable:
    def __init__(self, calls: list[Any]) -> None:
        self.calls = calls

    def __call__(self, event: Event[Any]) -> None:
        self.calls.append(("sync-object", event.data))


class AsyncCallable:
    def __init__(self, calls: list[Any]) -> None:
        self.calls = calls

    async def __call__(self, event: Event[Any]) -> None:
        await anyio.sleep(0)
        self.calls.append(("async-object", event.data))


class Handlers:
    def __init__(self, calls: list[Any]) -> None:
        self.calls = calls

    def sync_method(self, event: Event[Any]) -> None:
        self.calls.append(("sync-method", event.data))

    async def async_method(self, event: Event[Any]) -> None:
        await anyio.sleep(0)
        self.calls.append(("async-method", event.data))


async def test_sync_and_async_callables_of_every_kind_are_listeners() -> None:
    """Functions, coroutine functions, callable objects (sync and async `__call__`), bound
    methods, partials, and a plain function returning an awaitable are all awaited by emit."""
    bus = Emittery()
    calls: list[Any] = []

    def sync_function(event: Event[Any]) -> None:
        calls.append(("sync-function", event.data))

    async def async_function(event: Event[Any]) -> None:
        await anyio.sleep(0)
        calls.append(("async-function", event.data))

    async def tagged(tag: str, event: Event[Any]) -> None:
        await anyio.sleep(0)
        calls.append((tag, event.data))

    handlers = Handlers(calls)
    bus.on("x", sync_function)
    bus.on("x", async_function)
    bus.on("x", SyncCallable(calls))
    bus.on("x", AsyncCallable(calls))
    bus.on("x", handlers.sync_method)
    bus.on("x", handlers.async_method)
    bus.on("x", functools.partial(tagged, "partial"))
    bus.on("x", lambda event: tagged("lambda-returning-coroutine", event))
    await bus.emit("x", 7)
    assert sorted(calls) == sorted(
        [
            ("sync-function", 7),
            ("async-function", 7),
            ("sync-object", 7),
            ("async-object", 7),
            ("sync-method", 7),
            ("async-method", 7),
            ("partial", 7),
            ("lambda-returning-coroutine", 7),
        ]
    )


async def test_listener_return_values_are_ignored_and_emit_returns_none() -> None:
    bus = Emittery()

    async def returns_value(event: Event[Any]) -> str:
        return "🌈"

    bus.on("🦄", lambda event: "🌈")
    bus.on("🦄", returns_value)
    assert await bus.emit("🦄") is None  # type: ignore[func-returns-value]
    assert await bus.emit_serial("🦄") is None  # type: ignore[func-returns-value]


# --- off -------------------------------------------------------------------------------------


async def test_off_removes_a_listener() -> None:
    bus = Emittery()
    calls: list[int] = []
    listener = recorder(calls, 1)
    bus.on("🦄", listener)
    await bus.emit("🦄")
    bus.off("🦄", listener)
    await bus.emit("🦄")
    assert calls == [1]


async def test_off_with_several_names() -> None:
    bus = Emittery()
    calls: list[str] = []

    def listener(event: Event[Any]) -> None:
        calls.append(event.name)

    bus.on(["🦄", "🐶", "🦊"], listener)
    await bus.emit("🦄")
    bus.off(["🦄", "🐶"], listener)
    await bus.emit("🦄")
    await bus.emit("🐶")
    assert calls == ["🦄"]
    await bus.emit("🦊")
    assert calls == ["🦄", "🦊"]


async def test_off_of_a_listener_never_subscribed_is_a_no_op() -> None:
    bus = Emittery()
    calls: list[int] = []
    bus.on("🦄", recorder(calls, 1))
    bus.off("🦄", recorder(calls, 2))
    bus.off("never-used", recorder(calls, 3))
    await bus.emit("🦄")
    assert calls == [1]


# --- on_any / off_any ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["emit", "emit_serial"])
async def test_on_any_receives_every_event_with_its_name(method: str) -> None:
    bus = Emittery()
    received: list[Event[Any]] = []
    bus.on_any(received.append)
    payload = {"foo": True}
    await getattr(bus, method)("🦄", payload)
    await getattr(bus, method)("🐶")
    assert received == [Event("🦄", payload), Event("🐶", None)]


async def test_on_any_returns_an_unsubscribe_callable() -> None:
    bus = Emittery()
    calls: list[int] = []
    off = bus.on_any(recorder(calls, 1))
    await bus.emit("🦄")
    off()
    off()
    await bus.emit("🦄")
    assert calls == [1]
    assert bus.listener_count() == 0


async def test_off_any_removes_an_any_listener() -> None:
    bus = Emittery()
    calls: list[int] = []
    listener = recorder(calls, 1)
    bus.on_any(listener)
    await bus.emit("🦄")
    bus.off_any(listener)
    await bus.emit("🦄")
    assert calls == [1]


async def test_a_listener_on_a_name_and_on_any_is_called_once_for_each() -> None:
    bus = Emittery()
    calls: list[str] = []

    def listener(event: Event[Any]) -> None:
        calls.append(event.name)

    bus.on("🦄", listener)
    bus.on_any(listener)
    assert bus.listener_count("🦄") == 2
    await bus.emit("🦄")
    await bus.emit("🐶")
    assert calls == ["🦄", "🦄", "🐶"]


async def test_async_any_listener_is_awaited() -> None:
    bus = Emittery()
    calls: list[str] = []

    async def listener(event: Event[Any]) -> None:
        await anyio.sleep(0)
        await anyio.sleep(0)
        calls.append(event.name)

    bus.on_any(listener)
    await bus.emit("🦄")
    assert calls == ["🦄"]


# --- TypeError / ValueError rules ----------------------------------------------------------


BAD_NAMES: list[Any] = [True, 42, None, b"bytes", 1.5, object()]


def noop(event: Event[Any]) -> None:
    return None


@pytest.mark.parametrize("bad", BAD_NAMES, ids=repr)
async def test_on_rejects_a_name_that_is_not_a_str(bad: Any) -> None:
    bus = Emittery()
    with pytest.raises(TypeError):
        bus.on(bad, noop)
    assert bus.listener_count() == 0


@pytest.mark.parametrize("bad", BAD_NAMES, ids=repr)
async def test_off_rejects_a_name_that_is_not_a_str(bad: Any) -> None:
    bus = Emittery()
    with pytest.raises(TypeError):
        bus.off(bad, noop)


@pytest.mark.parametrize("bad", BAD_NAMES, ids=repr)
async def test_emit_and_emit_serial_reject_a_name_that_is_not_a_str(bad: Any) -> None:
    bus = Emittery()
    calls: list[int] = []
    bus.on_any(recorder(calls, 1))
    with pytest.raises(TypeError):
        await bus.emit(bad)
    with pytest.raises(TypeError):
        await bus.emit_serial(bad)
    assert calls == []


@pytest.mark.parametrize("bad", [None, 42, "listener"], ids=repr)
async def test_listener_must_be_callable(bad: Any) -> None:
    bus = Emittery()
    with pytest.raises(TypeError):
        bus.on("🦄", bad)
    with pytest.raises(TypeError):
        bus.off("🦄", bad)
    with pytest.raises(TypeError):
        bus.on_any(bad)
    with pytest.raises(TypeError):
        bus.off_any(bad)
    assert bus.listener_count() == 0


async def test_on_with_one_bad_name_among_good_ones_subscribes_nothing() -> None:
    bus = Emittery()
    calls: list[str] = []
    added: list[Event[Any]] = []
    bus.on(LISTENER_ADDED, added.append)
    with pytest.raises(TypeError):
        bus.on(["a", 42], lambda event: calls.append(event.name))  # type: ignore[list-item]
    with pytest.raises(TypeError):
        bus.on(["a", "b", None], lambda event: calls.append(event.name))  # type: ignore[list-item]
    assert bus.listener_count("a") == 0
    assert bus.listener_count("b") == 0
    await bus.emit("a")
    await bus.emit("b")
    assert calls == []
    await anyio.wait_all_tasks_blocked()
    assert added == []


async def test_off_with_one_bad_name_among_good_ones_raises_type_error() -> None:
    bus = Emittery()
    bus.on("a", noop)
    with pytest.raises(TypeError):
        bus.off(["a", 42], noop)  # type: ignore[list-item]


async def test_unknown_mode_is_a_value_error_and_subscribes_nothing() -> None:
    bus = Emittery()
    with pytest.raises(ValueError):
        bus.on("🦄", noop, mode="parallel")  # type: ignore[arg-type]
    assert bus.listener_count("🦄") == 0
