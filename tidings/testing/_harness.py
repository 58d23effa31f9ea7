"""`TestBus`: a started bus wrapped for a test: wait until everything settled, see what was
emitted, assert on it, and swap a handler for a recorder."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar, overload

import anyio

from tidings.runtime import EventBus, Message
from tidings.runtime.bus import FINAL
from tidings.runtime.stores import Delivery, LogEntry
from tidings.testing._clock import FakeClock
from tidings.testing._transport import MemoryBroker

B = TypeVar("B", bound=EventBus)

LOOK = 0.1
"""Seconds of one wait on the log before `settled` looks at the clock and the broker again."""


class NotSettled(TimeoutError):
    """`TestBus.settled` timed out; the message names every delivery still not final."""


class Captured(Sequence[Message[Any]]):
    """What a bus emitted, in order: a sequence of typed `Message`s; `captured(name)` keeps
    those of one name."""

    def __init__(self) -> None:
        self._messages: list[Message[Any]] = []

    def record(self, message: Message[Any]) -> None:
        """Add an emitted message (the bus calls it on every emit)."""
        self._messages.append(message)

    def __call__(self, name: str) -> list[Message[Any]]:
        """The emitted messages named `name`, in order."""
        return [m for m in self._messages if m.name == name]

    @overload
    def __getitem__(self, index: int) -> Message[Any]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Message[Any]]: ...
    def __getitem__(self, index: int | slice) -> Message[Any] | Sequence[Message[Any]]:
        return self._messages[index]

    def __len__(self) -> int:
        return len(self._messages)

    def __repr__(self) -> str:
        return f"Captured({[m.name for m in self._messages]})"


def _field(data: object, key: str) -> object:
    # A payload field by attribute name, else by its JSON (alias) name.
    if hasattr(data, key):
        return getattr(data, key)
    dump = getattr(data, "model_dump", None)
    if dump is not None:
        return dump(mode="python", by_alias=True).get(key, _MISSING)
    if isinstance(data, dict):
        return data.get(key, _MISSING)
    return _MISSING


_MISSING = object()


def _matches(message: Message[Any], fields: dict[str, object]) -> bool:
    return all(_field(message.data, key) == value for key, value in fields.items())


class TestBus(Generic[B]):
    """A started `EventBus` (`bus`, typed as the generated bus class it is) with what a test
    needs around it. Any other attribute (`emit`, `publish`, `on`, `replay`, ...) is the bus's.

    `captured` holds every message this bus emitted; `settled()` waits until every delivery
    in its log is final (retries included: on a `FakeClock` it moves the clock to each due
    retry instead of waiting); `stub(subscriber)` swaps a handler for a recorder.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, bus: B, clock: FakeClock | None = None, broker: MemoryBroker | None = None) -> None:
        self.bus = bus
        """The wrapped bus."""
        self.clock = clock
        """The bus's clock when it is a `FakeClock` (else None)."""
        self.broker = broker
        """The in-memory broker of the bus's transport double (else None)."""
        self.captured = Captured()
        """Every message this bus emitted, in order (typed `Message`s)."""
        bus.on_any(self.captured.record)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bus, name)

    # -- waiting ---------------------------------------------------------------------------------

    async def settled(self, timeout: float = 10.0, *, expect: Sequence[str] = ()) -> list[Delivery]:
        """Wait until every delivery in the bus's log succeeded or went dead, the broker double
        has nothing in flight, and (with `expect`) a message of each name in `expect` is in the
        log (for messages arriving from another process); return the deliveries. On a
        `FakeClock`, when nothing can run until a retry is due, the clock is moved to it and the
        retry claimed at once. Raises `NotSettled`, naming what is still pending, after
        `timeout` seconds."""
        bus = self.bus
        store = bus.store
        if store is None:
            raise RuntimeError("settled needs a bus with a store")
        deadline = anyio.current_time() + timeout
        while True:
            await store.flush()
            entries = await store.log(limit=1_000_000_000)
            rows = [row for entry in entries for row in entry.deliveries]
            open_rows = [row for row in rows if row.status not in FINAL]
            missing = set(expect) - {entry.message.name for entry in entries}
            broker_idle = self.broker is None or self.broker.idle
            if not open_rows and broker_idle and not missing:
                await anyio.sleep(0)  # let a delivery that just finished emit what it emits
                await store.flush()
                if len(await store.log(limit=1_000_000_000)) == len(entries):
                    return rows
                continue
            remaining = deadline - anyio.current_time()
            if remaining <= 0:
                raise NotSettled(self._describe(timeout, entries, open_rows, missing))
            if self._advance(open_rows):
                # The clock jumped: this bus's leases move with it (as its renew loop would).
                await store.renew(bus.owner, bus.clock.now() + timedelta(seconds=bus.lease))
                await bus.claim_due()
                continue
            keys = [(row.message_id, row.subscriber) for row in open_rows]
            if keys:
                await bus.settled(keys, timeout=min(remaining, LOOK))
            else:
                await anyio.sleep(min(remaining, LOOK / 5))

    def _advance(self, open_rows: list[Delivery]) -> bool:
        # On a fake clock with nothing to run now: move it to the next retry; True if moved.
        # A retry waiting in place (a serial subscriber) sleeps on the clock; other retries
        # are `failed` rows due later, which only count once nothing is running.
        clock = self.clock
        if clock is None or any(row.status == "pending" for row in open_rows):
            return False
        if self.broker is not None and any(q.ready or q.in_hand for q in self.broker.queues.values()):
            return False
        due: list[datetime] = []
        if not any(row.status == "running" for row in open_rows):
            due = [row.next_attempt_at for row in open_rows
                   if row.next_attempt_at is not None and row.next_attempt_at > clock.now()]
        sleeper = clock.next_deadline()
        if sleeper is not None:
            due.append(sleeper)
        if not due:
            return False
        clock.advance_to(min(due))
        return True

    @staticmethod
    def _describe(timeout: float, entries: list[LogEntry], open_rows: list[Delivery],
                  missing: set[str]) -> str:
        names = {entry.message.id: entry.message.name for entry in entries}
        lines = [f"{names.get(row.message_id, '?')} {row.message_id} -> {row.subscriber}: {row.status}"
                 f" (attempts {row.attempts}"
                 + (f", next at {row.next_attempt_at.isoformat()}" if row.next_attempt_at else "")
                 + ")" for row in open_rows]
        lines += [f"no {name!r} message arrived" for name in sorted(missing)]
        return f"not settled after {timeout}s: " + "; ".join(lines or ["the broker has work in flight"])

    # -- asserting -------------------------------------------------------------------------------

    def assert_emitted(self, name: str, /, **fields: object) -> Message[Any]:
        """The first emitted `name` message whose payload has these field values (attribute or
        JSON names); AssertionError listing what was emitted when there is none."""
        for message in self.captured(name):
            if _matches(message, fields):
                return message
        seen = [m.data for m in self.captured(name)]
        wanted = ", ".join(f"{k}={v!r}" for k, v in fields.items())
        raise AssertionError(f"no {name!r} emitted" + (f" with {wanted}" if wanted else "")
                             + f"; emitted {name!r}: {seen!r}; all names: {[m.name for m in self.captured]}")

    def assert_not_emitted(self, name: str, /, **fields: object) -> None:
        """AssertionError (showing it) if a `name` message with these field values was emitted."""
        for message in self.captured(name):
            if _matches(message, fields):
                raise AssertionError(f"{name!r} was emitted: {message.data!r} (id {message.id})")

    # -- stubbing --------------------------------------------------------------------------------

    @contextmanager
    def stub(self, subscriber: str, side_effect: Callable[[Message[Any]], object] | None = None
             ) -> Iterator[list[Message[Any]]]:
        """Replace the named subscriber's handler, inside the block, by a recorder: the list
        yielded receives every message delivered to it (retries included); `side_effect`, if
        given, then runs on the message (raise in it to make the delivery fail). The
        subscriber keeps its name, mode, retry policy and log rows; the handler is back after."""
        calls: list[Message[Any]] = []

        def record(message: Message[Any]) -> object:
            calls.append(message)
            return None if side_effect is None else side_effect(message)

        previous = self.bus.replace_listener(subscriber, record)
        try:
            yield calls
        finally:
            self.bus.replace_listener(subscriber, previous)
