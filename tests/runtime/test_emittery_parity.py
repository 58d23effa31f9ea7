"""Emittery parity: `init` returns a remover; only `.on()` listeners drive init/deinit (never the
`events()`/`any_event()` iterators, as Emittery's readme says in its `init` section); `once`
takes its predicate by keyword too (on `Emittery` and on `EventBus`)."""

from __future__ import annotations

from typing import Any

import anyio
import pydantic
import pytest

from tidings.runtime import CatalogSpec, Emittery, Event, EventBus, MessageSpec

pytestmark = pytest.mark.anyio

GUARD = 10  # deadlock guard only, never asserted on


def noop(event: Event[Any]) -> None:
    return None


class Lifecycle:
    def __init__(self) -> None:
        self.log: list[str] = []

    def setup(self) -> Any:
        self.log.append("init")
        return self.teardown

    def teardown(self) -> None:
        self.log.append("deinit")


async def test_init_returns_a_remover_that_runs_deinit_when_active() -> None:
    bus = Emittery()
    life = Lifecycle()
    remove = bus.init("mouse", life.setup)
    assert callable(remove)
    bus.on("mouse", noop)
    assert life.log == ["init"]
    remove()
    assert life.log == ["init", "deinit"]
    bus.off("mouse", noop)
    bus.on("mouse", noop)
    assert life.log == ["init", "deinit"]  # removed: no init any more
    remove()  # idempotent
    assert life.log == ["init", "deinit"]
    bus.init("mouse", life.setup)  # the name is free again; it has a listener: runs at once
    assert life.log == ["init", "deinit", "init"]


async def test_removing_an_inactive_init_runs_no_deinit() -> None:
    bus = Emittery()
    life = Lifecycle()
    remove = bus.init("mouse", life.setup)
    remove()
    bus.on("mouse", noop)
    assert life.log == []


async def test_iterators_never_trigger_init_or_deinit() -> None:
    bus = Emittery()
    life = Lifecycle()
    bus.init("mouse", life.setup)
    iterator = bus.events("mouse")
    every = bus.any_event()
    assert life.log == []
    bus.on("mouse", noop)
    assert life.log == ["init"]
    await iterator.aclose()
    await every.aclose()
    assert life.log == ["init"]
    late = bus.events("mouse")
    bus.off("mouse", noop)  # the iterator left open does not keep the set-up alive
    assert life.log == ["init", "deinit"]
    await bus.emit("mouse", 1)
    with anyio.fail_after(GUARD):
        assert await late.__anext__() == Event("mouse", 1)
    await late.aclose()
    assert life.log == ["init", "deinit"]


async def test_once_takes_the_predicate_by_keyword() -> None:
    bus = Emittery()
    box: list[Event[Any]] = []

    async def wait() -> None:
        box.append(await bus.once("n", predicate=lambda event: event.data == 2))

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(wait)
            await anyio.wait_all_tasks_blocked()
            await bus.emit("n", 1)
            await bus.emit("n", 2)
    assert box == [Event("n", 2)]


class Placed(pydantic.BaseModel):
    n: int


async def test_event_bus_once_takes_the_predicate_by_keyword() -> None:
    bus = EventBus(CatalogSpec("shop", {"placed": MessageSpec("placed", "event", Placed)}))
    pending = bus.once("placed", predicate=lambda message: message.data.n == 2)
    await bus.emit("placed", {"n": 1})
    await bus.emit("placed", {"n": 2})
    with anyio.fail_after(GUARD):
        message = await pending
    assert message.data == Placed(n=2)
