"""`init(name, fn)` (lazy set-up, teardown when the last listener leaves) and `bind_methods`.

DESIGN §4: `init` twice for a name raises ValueError; `bind_methods` with an unknown method name
or onto an attribute the target already has raises ValueError; a bad name or a non-callable is a
TypeError. Ported from sindresorhus/emittery (bindMethods() cases).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from tidings.runtime import Emittery, Event

pytestmark = pytest.mark.anyio

GUARD = 10  # deadlock guard only, never asserted on


def noop(event: Event[Any]) -> None:
    return None


def other(event: Event[Any]) -> None:
    return None


class Lifecycle:
    def __init__(self) -> None:
        self.log: list[str] = []

    def setup(self) -> Any:
        self.log.append("init")
        return self.teardown

    def teardown(self) -> None:
        self.log.append("deinit")


# --- init ------------------------------------------------------------------------------------


async def test_init_runs_at_the_first_listener_and_tears_down_after_the_last() -> None:
    bus = Emittery()
    life = Lifecycle()
    bus.init("mouse", life.setup)
    assert life.log == []
    off1 = bus.on("mouse", noop)
    assert life.log == ["init"]
    off2 = bus.on("mouse", other)
    bus.on("keyboard", noop)
    assert life.log == ["init"]
    off1()
    assert life.log == ["init"]
    off2()
    assert life.log == ["init", "deinit"]
    bus.on("mouse", noop)
    assert life.log == ["init", "deinit", "init"]
    bus.off("mouse", noop)
    assert life.log == ["init", "deinit", "init", "deinit"]


async def test_init_set_up_can_emit_to_its_listeners() -> None:
    bus = Emittery()
    received: list[Event[Any]] = []
    started: list[bool] = []

    def setup() -> None:
        started.append(True)  # no teardown returned: allowed

    bus.init("mouse", setup)
    listener = received.append
    bus.on("mouse", listener)
    await bus.emit("mouse", (1, 2))
    assert started == [True]
    assert received == [Event("mouse", (1, 2))]
    bus.off("mouse", listener)  # no teardown: nothing to call, no error
    assert bus.listener_count("mouse") == 0


async def test_init_is_not_triggered_by_other_names_or_by_emit() -> None:
    bus = Emittery()
    life = Lifecycle()
    bus.init("mouse", life.setup)
    bus.on("keyboard", noop)
    await bus.emit("mouse")
    await bus.emit("keyboard")
    assert life.log == []


async def test_once_sets_up_and_tears_down() -> None:
    bus = Emittery()
    life = Lifecycle()
    bus.init("mouse", life.setup)
    box: list[Event[Any]] = []

    async def wait() -> None:
        box.append(await bus.once("mouse"))

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(wait)
            await anyio.wait_all_tasks_blocked()
            assert life.log == ["init"]
            await bus.emit("mouse", "click")
    assert box == [Event("mouse", "click")]
    assert life.log == ["init", "deinit"]


async def test_cancelled_once_tears_down() -> None:
    bus = Emittery()
    life = Lifecycle()
    bus.init("mouse", life.setup)
    with anyio.move_on_after(0.01):
        await bus.once("mouse")
    assert life.log == ["init", "deinit"]


async def test_clear_listeners_removing_the_last_listener_tears_down() -> None:
    bus = Emittery()
    life = Lifecycle()
    bus.init("mouse", life.setup)
    bus.on("mouse", noop)
    bus.on("mouse", other)
    bus.clear_listeners("mouse")
    assert life.log == ["init", "deinit"]
    bus.on("mouse", noop)
    bus.clear_listeners()
    assert life.log == ["init", "deinit", "init", "deinit"]


async def test_inits_of_different_names_are_independent() -> None:
    bus = Emittery()
    mouse, keyboard = Lifecycle(), Lifecycle()
    bus.init("mouse", mouse.setup)
    bus.init("keyboard", keyboard.setup)
    off = bus.on(["mouse", "keyboard"], noop)
    assert (mouse.log, keyboard.log) == (["init"], ["init"])
    bus.off("mouse", noop)
    assert (mouse.log, keyboard.log) == (["init", "deinit"], ["init"])
    off()
    assert keyboard.log == ["init", "deinit"]


async def test_init_for_a_name_that_already_has_listeners_runs_at_once() -> None:
    bus = Emittery()
    life = Lifecycle()
    bus.on("mouse", noop)
    bus.init("mouse", life.setup)
    assert life.log == ["init"]
    bus.off("mouse", noop)
    assert life.log == ["init", "deinit"]


async def test_init_twice_for_a_name_is_a_value_error() -> None:
    bus = Emittery()
    life = Lifecycle()
    bus.init("mouse", life.setup)
    with pytest.raises(ValueError):
        bus.init("mouse", life.setup)
    with pytest.raises(ValueError):
        bus.init("mouse", Lifecycle().setup)
    bus.on("mouse", noop)
    assert life.log == ["init"]  # the first set-up is the one in force


@pytest.mark.parametrize("bad", [True, 42, None], ids=repr)
async def test_init_with_a_bad_name_is_a_type_error(bad: Any) -> None:
    with pytest.raises(TypeError):
        Emittery().init(bad, Lifecycle().setup)


@pytest.mark.parametrize("bad", [None, 42, "setup"], ids=repr)
async def test_init_with_a_non_callable_is_a_type_error(bad: Any) -> None:
    bus = Emittery()
    with pytest.raises(TypeError):
        bus.init("mouse", bad)
    bus.init("mouse", Lifecycle().setup)  # the failed call registered nothing


# --- bind_methods ----------------------------------------------------------------------------


PUBLIC_METHODS = [
    "on",
    "off",
    "once",
    "events",
    "emit",
    "emit_serial",
    "on_any",
    "off_any",
    "any_event",
    "clear_listeners",
    "listener_count",
    "init",
    "bind_methods",
]


async def test_bind_methods_binds_the_named_methods_onto_the_target() -> None:
    bus = Emittery()
    target = SimpleNamespace()
    before = set(vars(target))
    bus.bind_methods(target, ["on", "off", "emit", "listener_count"])
    assert set(vars(target)) - before == {"on", "off", "emit", "listener_count"}
    assert target.listener_count() == 0
    received: list[Event[Any]] = []
    listener = received.append
    target.on("🦄", listener)
    assert bus.listener_count("🦄") == 1
    await target.emit("🦄", 1)
    assert received == [Event("🦄", 1)]
    target.off("🦄", listener)
    assert bus.listener_count() == 0


async def test_bind_methods_without_names_binds_every_public_method() -> None:
    bus = Emittery()

    class Target:
        pass

    target = Target()
    bus.bind_methods(target)
    for name in PUBLIC_METHODS:
        assert callable(getattr(target, name)), name
    assert target.listener_count() == 0  # type: ignore[attr-defined]
    assert not any(name.startswith("_") for name in vars(target))


async def test_bind_methods_with_an_unknown_name_is_a_value_error() -> None:
    target = SimpleNamespace()
    with pytest.raises(ValueError):
        Emittery().bind_methods(target, ["nonexistent"])
    with pytest.raises(ValueError):
        Emittery().bind_methods(target, ["_private_helper"])
    assert "nonexistent" not in vars(target)


async def test_bind_methods_onto_an_existing_attribute_is_a_value_error() -> None:
    target = SimpleNamespace(on=True)
    with pytest.raises(ValueError):
        Emittery().bind_methods(target, ["on"])
    assert target.on is True

    class WithMethod:
        def emit(self) -> str:
            return "mine"

    instance = WithMethod()
    with pytest.raises(ValueError):
        Emittery().bind_methods(instance, ["emit"])
    assert instance.emit() == "mine"


@pytest.mark.parametrize("bad", [[None], [1], "on"], ids=repr)
async def test_bind_methods_with_names_that_are_not_a_list_of_str_is_rejected(bad: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        Emittery().bind_methods(SimpleNamespace(), bad)


# --- async with ------------------------------------------------------------------------------


async def test_async_with_returns_the_emitter_itself() -> None:
    bus = Emittery()
    async with bus as entered:
        assert entered is bus
