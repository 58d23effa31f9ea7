"""Random sequences of subscribe / unsubscribe / emit / iterate / clear, checked against a model.

The model is the contract of DESIGN §4 reduced to bookkeeping: one subscription per (name,
listener); order of subscription kept (a listener re-added after removal goes last); regular
listeners run before any-listeners; `listener_count` counts listeners and iterators of the
name plus every any-listener and any-iterator; iterators buffer from creation, `aclose()` drops
the buffer and ends them, `clear_listeners` lets them drain then end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.runtime import Emittery, Event

pytestmark = pytest.mark.anyio

NAMES = ["a", "b", "c"]
LISTENERS = 4

name_lists = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True)
listener_ids = st.integers(0, LISTENERS - 1)
operations = st.one_of(
    st.tuples(st.just("on"), name_lists, listener_ids),
    st.tuples(st.just("off"), name_lists, listener_ids),
    st.tuples(st.just("on_any"), listener_ids),
    st.tuples(st.just("off_any"), listener_ids),
    st.tuples(st.just("emit"), st.sampled_from(NAMES)),
    st.tuples(st.just("emit_serial"), st.sampled_from(NAMES)),
    # single-name iterators: how clearing one name of a multi-name iterator behaves is not fixed
    st.tuples(st.just("events"), st.sampled_from(NAMES).map(lambda n: [n])),
    st.tuples(st.just("any_event")),
    st.tuples(st.just("aclose"), st.integers(0, 5)),
    st.tuples(st.just("clear"), st.none() | name_lists),
    st.tuples(st.just("count"), st.none() | name_lists),
)


@dataclass
class ModelIterator:
    names: list[str] | None  # None: any_event()
    buffer: list[Event[Any]] = field(default_factory=list)
    subscribed: bool = True
    closed: bool = False


@dataclass
class Model:
    regular: dict[str, list[int]] = field(default_factory=lambda: {n: [] for n in NAMES})
    any: list[int] = field(default_factory=list)
    iterators: list[ModelIterator] = field(default_factory=list)

    def count(self, names: list[str] | None) -> int:
        live = [it for it in self.iterators if it.subscribed]
        anys = len(self.any) + sum(1 for it in live if it.names is None)
        if names is None:
            named = sum(len(it.names) for it in live if it.names is not None)
            return anys + sum(len(v) for v in self.regular.values()) + named
        return sum(
            anys
            + len(self.regular[n])
            + sum(1 for it in live if it.names is not None and n in it.names)
            for n in names
        )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(operations, max_size=40))
async def test_random_operations_match_the_model(ops: list[tuple[Any, ...]]) -> None:
    bus = Emittery()
    model = Model()
    calls: list[tuple[str, int, str]] = []

    def make(kind: str, i: int) -> Any:
        def listener(event: Event[Any]) -> None:
            calls.append((kind, i, event.name))

        return listener

    regular_listeners = [make("regular", i) for i in range(LISTENERS)]
    any_listeners = [make("any", i) for i in range(LISTENERS)]
    real_iterators: list[Any] = []
    serial = 0

    for op in ops:
        kind = op[0]
        if kind == "on":
            _, names, i = op
            bus.on(names, regular_listeners[i])
            for n in names:
                if i not in model.regular[n]:
                    model.regular[n].append(i)
        elif kind == "off":
            _, names, i = op
            bus.off(names, regular_listeners[i])
            for n in names:
                if i in model.regular[n]:
                    model.regular[n].remove(i)
        elif kind == "on_any":
            bus.on_any(any_listeners[op[1]])
            if op[1] not in model.any:
                model.any.append(op[1])
        elif kind == "off_any":
            bus.off_any(any_listeners[op[1]])
            if op[1] in model.any:
                model.any.remove(op[1])
        elif kind in ("emit", "emit_serial"):
            name = op[1]
            serial += 1
            calls.clear()
            await getattr(bus, kind)(name, serial)
            expected = [("regular", i, name) for i in model.regular[name]]
            expected += [("any", i, name) for i in model.any]
            assert calls == expected
            for it in model.iterators:
                if it.subscribed and (it.names is None or name in it.names):
                    it.buffer.append(Event(name, serial))
        elif kind == "events":
            real_iterators.append(bus.events(op[1]))
            model.iterators.append(ModelIterator(list(op[1])))
        elif kind == "any_event":
            real_iterators.append(bus.any_event())
            model.iterators.append(ModelIterator(None))
        elif kind == "aclose":
            if op[1] < len(real_iterators):
                await real_iterators[op[1]].aclose()
                it = model.iterators[op[1]]
                it.subscribed, it.closed, it.buffer = False, True, []
        elif kind == "clear":
            names = op[1]
            bus.clear_listeners(names)
            for n in names if names is not None else NAMES:
                model.regular[n] = []
            if names is None:
                model.any = []
            for it in model.iterators:
                if it.subscribed and (
                    names is None or (it.names is not None and set(it.names) & set(names))
                ):
                    it.subscribed = False
        elif kind == "count":
            assert bus.listener_count(op[1]) == model.count(op[1])
        assert bus.listener_count() == model.count(None)

    for real, it in zip(real_iterators, model.iterators, strict=True):
        for expected_event in it.buffer:
            assert await real.__anext__() == expected_event
        if not it.subscribed:
            with pytest.raises(StopAsyncIteration):
                await real.__anext__()
        await real.aclose()
    assert bus.listener_count() == model.count(None) - sum(
        len(it.names) if it.names is not None else 1 for it in model.iterators if it.subscribed
    )
