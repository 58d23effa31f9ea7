"""`EventBus`: the catalog-aware bus. Every payload is validated into its model; listeners get a
`Message`. With a store, every message is persisted, retried, recoverable and replayable."""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from types import TracebackType
from typing import Any, Self
from uuid import UUID, SafeUUID, uuid4

import anyio
import anyio.abc
import pydantic
from anyio.abc import TaskGroup

from tidings.runtime._emitter import (
    DebugOptions,
    Emittery,
    EventIterator,
    Mode,
    Once,
    _names,
    _Sub,
    current_event,
)
from tidings.runtime._event import Event, Message
from tidings.runtime._remote import Consumers, Relay
from tidings.runtime._spec import CatalogSpec, MessageSpec, RetryPolicy
from tidings.runtime.stores._base import Claim, Delivery, Outcome, Status, Store, StoredMessage
from tidings.runtime.transports._base import Transport

MessageListener = Callable[[Message[Any]], object]
log = logging.getLogger("tidings.bus")


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A named subscription: recovery and replay find a subscriber by its stable `name`."""

    name: str
    names: tuple[str, ...]
    listener: MessageListener
    mode: Mode
    retry: RetryPolicy | None
    remote: bool = False
    """True when it consumes its events from the bus's transport rather than from local emits."""


class EmitError(ExceptionGroup[Exception]):
    """The listener errors of one `EventBus.emit` (flat, like Emittery's); `emitted` is the
    message that was emitted (and stored), so its id can be found in the log."""

    emitted: Message[Any]


_VERSION_BITS = 0x7 << 76 | 0x2 << 62  # version 7, variant RFC 9562
_VERSION_MASK = ~(0xF << 76 | 0x3 << 62)
_new = object.__new__
_setattr = object.__setattr__
_UNKNOWN = SafeUUID.unknown


_random_bits: deque[int] = deque()
os.register_at_fork(after_in_child=_random_bits.clear)  # a child must not reuse the parent's


def _random80() -> int:
    # 80 bits from the OS CSPRNG, read 256 values at a time: os.urandom releases the GIL, and
    # every release lets the store's writer thread in, which the event loop then waits out.
    try:
        return _random_bits.popleft()
    except IndexError:
        block = os.urandom(10 * 256)
        _random_bits.extend(int.from_bytes(block[i:i + 10], "big") for i in range(10, 2560, 10))
        return int.from_bytes(block[:10], "big")


def uuid7() -> UUID:
    """A new time-ordered UUID (RFC 9562 version 7): message ids sort by emit time (to the
    millisecond), which keeps the log's indexes append-only."""
    value = (time.time_ns() // 1_000_000) << 80 | _random80()
    uuid = _new(UUID)  # what UUID(int=...) does, without re-checking a value built in range
    _setattr(uuid, "int", value & _VERSION_MASK | _VERSION_BITS)
    _setattr(uuid, "is_safe", _UNKNOWN)
    return uuid


_MESSAGE_FIELDS = ("name", "data", "id", "version", "correlation_id", "causation_id", "attempt",
                   "emitted_at", "producer")


def _message_factory() -> Callable[..., Message[Any]]:
    # A Message built through its slot descriptors, at about half the cost of the generated
    # frozen __init__ (one per emit and per claimed delivery); the plain constructor if the
    # fields ever differ from these.
    if tuple(f.name for f in fields(Message)) != _MESSAGE_FIELDS:
        return lambda name, data, id, version, correlation_id, causation_id, attempt, emitted_at, \
            producer: Message(name, data, id=id, version=version, correlation_id=correlation_id,
                              causation_id=causation_id, attempt=attempt, emitted_at=emitted_at,
                              producer=producer)
    slot = {n: getattr(c, n) for c in reversed(Message.__mro__) for n in getattr(c, "__slots__", ())
            if n in _MESSAGE_FIELDS}
    set_name, set_data, set_id, set_version, set_corr, set_cause, set_attempt, set_at, set_prod = (
        slot[n].__set__ for n in _MESSAGE_FIELDS
    )

    def new(name: str, data: Any, id: UUID, version: int, correlation_id: UUID,
            causation_id: UUID | None, attempt: int, emitted_at: datetime,
            producer: str | None) -> Message[Any]:
        message: Message[Any] = _new(Message)
        set_name(message, name)
        set_data(message, data)
        set_id(message, id)
        set_version(message, version)
        set_corr(message, correlation_id)
        set_cause(message, causation_id)
        set_attempt(message, attempt)
        set_at(message, emitted_at)
        set_prod(message, producer)
        return message

    return new


_new_message = _message_factory()


def backoff(policy: RetryPolicy, attempt: int) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based): exponential, capped at
    `max_delay`, with full jitter (uniform in [0, delay)) when the policy asks for it."""
    delay = min(policy.max_delay, policy.initial_delay * 2.0 ** (attempt - 1))
    return delay * random.random() if policy.jitter else delay


BROKER_LEASE = datetime(9999, 12, 31, tzinfo=UTC)
"""The lease of a delivery the broker holds (a remote subscriber's message in flight or waiting
for redelivery): no bus claims it; the broker delivers it again. `replay` resets it."""
RELAY_RETRY = RetryPolicy(max_attempts=2**31 - 1, initial_delay=0.2, max_delay=5.0, jitter=True)
"""How the outbox relay retries a publish the broker did not take: every few seconds, forever."""


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)).rstrip()


class _Runner:
    """Runs one persisted subscriber's deliveries and records every outcome in the store."""

    __slots__ = ("__wrapped__", "bus", "halted", "listener", "mode", "name", "quiet", "retry")

    def __init__(self, bus: EventBus, name: str, listener: MessageListener, mode: Mode,
                 retry: RetryPolicy | None, quiet: bool = False) -> None:
        self.bus = bus
        self.name = name
        self.listener = listener
        self.__wrapped__ = listener
        self.mode = mode
        self.retry = retry
        self.halted = False
        self.quiet = quiet  # failures logged at debug level (the outbox relay while the broker is down)

    def __repr__(self) -> str:
        return f"<subscriber {self.name!r} {self.listener!r}>"

    def __call__(self, message: Message[Any]) -> Any:
        return self.run(message, self.mode == "sync")

    def background(self, message: Message[Any]) -> Any:
        return self.run(message, False)

    def policy(self, name: str) -> RetryPolicy:
        return self.retry if self.retry is not None else self.bus.catalog.get(name).retry

    async def run(self, message: Message[Any], raise_errors: bool) -> None:
        bus = self.bus
        store = bus.store
        assert store is not None
        if (bus._abandoning or self.halted) and not raise_errors:
            # Queued but not started when the shutdown timed out (or, for a serial subscriber,
            # behind a delivery left for later): leave it for the next start.
            store.record(Outcome(message.id, self.name, "pending", datetime.now(UTC), attempts_delta=-1))
            return
        while True:
            try:
                result = self.listener(message)
                if hasattr(result, "__await__"):
                    await result
            except Exception as exc:
                hold = self.mode == "serial" and not raise_errors
                retry_at = self._failed(message, exc, hold)
                if retry_at is not None and hold:
                    # Serial order: this subscriber takes nothing else until this one is done.
                    if await bus._pause_until(retry_at):
                        self.halted = True
                        store.record(Outcome(message.id, self.name, "failed", datetime.now(UTC),
                                             next_attempt_at=retry_at))
                        return
                    message = replace(message, attempt=message.attempt + 1)
                    store.record(Outcome(message.id, self.name, "running", datetime.now(UTC),
                                         owner=bus.owner, lease_until=bus._lease_until(),
                                         attempts_delta=1))
                    continue
                if raise_errors:
                    raise
                return
            except BaseException:
                # Cancelled (the shutdown timed out, or the caller gave up): run it again later.
                store.record(Outcome(message.id, self.name, "pending", datetime.now(UTC)))
                raise
            store.record(Outcome(message.id, self.name, "succeeded", datetime.now(UTC)))
            return

    def _failed(self, message: Message[Any], exc: Exception, hold: bool, broker: str | None = None
                ) -> datetime | None:
        """Record a failure: dead, or failed with the time of the retry, which it returns (`hold`
        keeps the delivery owned by this bus, for a serial subscriber retrying in place; `broker`
        leaves the retry to the broker, which owns the row meanwhile)."""
        policy = self.policy(message.name)
        now = datetime.now(UTC)
        text = _error_text(exc)
        if not isinstance(exc, policy.retry_on) or message.attempt >= policy.max_attempts:
            log.error("subscriber %r is dead on %s %s after attempt %d: %r", self.name, message.name,
                      message.id, message.attempt, exc)
            assert self.bus.store is not None
            self.bus.store.record(Outcome(message.id, self.name, "dead", now, error=text))
            return None
        retry_at = now + timedelta(seconds=backoff(policy, message.attempt))
        log.log(logging.DEBUG if self.quiet else logging.WARNING,
                "subscriber %r failed on %s %s (attempt %d, retry at %s): %r", self.name,
                message.name, message.id, message.attempt, retry_at.isoformat(), exc)
        assert self.bus.store is not None
        if broker is not None:
            owner, lease_until = broker, BROKER_LEASE
        elif hold:
            owner, lease_until = self.bus.owner, retry_at + timedelta(seconds=self.bus.lease)
        else:
            owner, lease_until = None, None
        self.bus.store.record(Outcome(message.id, self.name, "failed", now, error=text,
                                      next_attempt_at=retry_at, owner=owner, lease_until=lease_until))
        return retry_at


class EventBus(Emittery):
    """An `Emittery` that knows its catalog: names must be declared, payloads are validated into
    their pydantic model before anything runs, and listeners receive a typed `Message`.

    A message emitted inside a listener inherits the handled message's correlation id and takes
    its id as causation id, so the thread of execution can be followed.

    With a `store` (`SQLiteStore`, `PostgresStore`, `MemoryStore`), the bus is an event log:
    every message and one delivery row per named subscriber are stored in one transaction before
    anything runs; failures are retried per `RetryPolicy` and end `dead`, never dropped; deliveries
    left by a crash, due retries and rows set back to `pending` (by `replay`, the CLI or an admin's
    SQL) are claimed by a background loop. Such a bus must be started (`async with bus:`), and
    leaving the block shuts down gracefully: no new work is taken, queued and running
    deliveries get `shutdown_timeout` seconds to finish, then the running ones are cancelled and
    whatever did not finish stays `pending` for the next start (a serial subscriber waiting to
    retry stops at once and keeps its place: `failed`, then the rest of its queue `pending`).
    `once()` waiters, `events()` iterators and `on_any` listeners observe messages without
    delivery rows.

    With a `transport` (`NatsTransport`, `SnsSqsTransport`; needs a store), the catalog's
    distributed messages cross processes: each one emitted here also gets a delivery row for
    the outbox relay (`tidings.relay:<kind>`), which publishes it to the broker (retrying every
    few seconds while the broker is away) and is `succeeded` once the broker acknowledged it.
    Named subscribers of distributed messages consume them from the broker (`remote=True`, the
    default for them on such a bus), never from local emits: each gets a durable consumer named
    after it, shared by every process subscribing under that name. A received message is stored
    in this bus's log with a delivery row the broker owns meanwhile; the handler's success acks
    it, a failure naks it with the backoff delay, and after `max_attempts` the delivery is `dead`
    in this log (and acked), where `replay` runs it again here. `once()`, `events()` and `on_any`
    see local emits only.
    """

    def __init__(
        self,
        catalog: CatalogSpec,
        *,
        store: Store | None = None,
        debug: DebugOptions | None = None,
        lease: float = 30.0,
        poll_interval: float = 0.5,
        shutdown_timeout: float = 10.0,
        claim_batch: int = 200,
        max_in_flight: int = 2000,
        transport: Transport | None = None,
    ) -> None:
        super().__init__(debug=debug)
        self.catalog = catalog
        self.subscribers: dict[str, Subscriber] = {}
        self.store = store
        """The event log (None: a plain in-memory bus, nothing stored)."""
        self.transport = transport
        """The broker distributed messages cross (None: everything stays in this process)."""
        self.lease = lease
        """Seconds a claimed delivery stays owned by this bus without renewal (renewed every lease/3)."""
        self.poll_interval = poll_interval
        self.shutdown_timeout = shutdown_timeout
        self.claim_batch = claim_batch
        self.max_in_flight = max_in_flight
        self.owner = ""
        """This bus's identity in `deliveries.owner` while started: host:pid:random."""
        self._runners: dict[str, _Runner] = {}
        self._runner_of: dict[MessageListener, _Runner] = {}
        self._closing = False
        self._abandoning = False
        self._stopped: anyio.Event | None = None
        self._claim_wakeup: anyio.Event | None = None
        self._loops_done: list[anyio.Event] = []
        self._outer_tg: TaskGroup | None = None
        self._lease_cache: tuple[float, timedelta] | None = None
        self._consumers: Consumers | None = None
        self._relay: _Sub | None = None
        self._relay_names: frozenset[str] = frozenset()
        if transport is not None:
            if store is None:
                raise ValueError("an EventBus with a transport needs a store: the outbox and the"
                                 " remote subscribers' deliveries live in the event log")
            self._consumers = Consumers(self, transport)
            distributed = tuple(n for n, spec in catalog.messages.items() if spec.distributed)
            if distributed:
                # Not a listener: off/clear_listeners never reach it, listener_count skips it.
                name = f"tidings.relay:{transport.kind}"
                relay = Relay(transport)
                runner = self._runners[name] = _Runner(self, name, relay, "async", RELAY_RETRY, quiet=True)
                self._relay, self._relay_names = _Sub(runner, "async", None), frozenset(distributed)
                self.subscribers[name] = Subscriber(name, distributed, relay, "async", RELAY_RETRY)

    def _prepare(self, event: Event[Any], kind: str) -> tuple[_Sub, ...]:
        subs = super()._prepare(event, kind)
        relay = self._relay
        if relay is not None and event.name in self._relay_names:
            relay.queue = self._async  # this start's queue
            return (*subs, relay)
        return subs

    # -- validation and messages ---------------------------------------------------------------

    def _spec(self, name: object) -> MessageSpec:
        if not isinstance(name, str):
            raise TypeError(f"event name must be a str, got {name!r}")
        return self.catalog.get(name)

    def message(self, name: str, data: object = None, /, *, producer: str | None = None) -> Message[Any]:
        """Validate `data` (a model instance, or anything the model parses) and wrap it in a new Message.

        Raises KeyError for a name the catalog lacks and pydantic.ValidationError for a bad payload.
        """
        spec = self._spec(name)
        payload = data if type(data) is spec.model else spec.model.model_validate(data)
        cause = current_event.get()
        if isinstance(cause, Message):
            correlation, causation = cause.correlation_id or cause.id, cause.id
        else:
            correlation, causation = None, None
        message_id = uuid7()
        return _new_message(name, payload, message_id, spec.version, correlation or message_id,
                            causation, 1, datetime.now(UTC), producer)

    # -- emitting ------------------------------------------------------------------------------

    async def emit(self, name: str, data: Any = None, /, *, producer: str | None = None) -> None:
        """Validate, (store,) then deliver like `Emittery.emit` (sync listeners awaited, errors grouped)."""
        await self.publish(name, data, producer=producer)

    async def publish(
        self, name: str, data: object = None, /, *, producer: str | None = None
    ) -> Message[Any]:
        """`emit`, returning the delivered `Message` (its id identifies it in the log)."""
        if self.store is not None:
            self._check_open(name)
        message = self.message(name, data, producer=producer)
        subs = self._prepare(message, "emit")
        if self.store is not None:
            await self._append(message, subs)
        if subs:
            errors: list[Exception] = []
            token = current_event.set(message)
            try:
                await self._run(subs, 0, message, errors)
            finally:
                current_event.reset(token)
            if errors:
                error = EmitError(f"{len(errors)} listener(s) of {name!r} failed", errors)
                error.emitted = message
                raise error
        return message

    async def emit_serial(self, name: str, data: Any = None, /, *, producer: str | None = None) -> None:
        """Validate, (store,) then run the listeners one after another (the first error propagates)."""
        if self.store is not None:
            self._check_open(name)
        message = self.message(name, data, producer=producer)
        subs = self._prepare(message, "emit_serial")
        if self.store is not None:
            await self._append(message, subs)
        token = current_event.set(message)
        try:
            await self._serially(subs, message)
        finally:
            current_event.reset(token)

    def _check_open(self, name: str) -> None:
        if self._tg is None:
            raise RuntimeError(
                f"cannot emit {name!r}: an EventBus with a store must be started first, with"
                " `async with bus:` (it opens the store and runs retries and recovery)"
            )
        if self._closing and (self._abandoning or not isinstance(current_event.get(), Message)):
            # While shutting down, handlers still finishing may emit; nobody else may.
            raise RuntimeError(f"cannot emit {name!r}: the bus is shutting down")

    async def _append(self, message: Message[Any], subs: tuple[_Sub, ...]) -> None:
        assert self.store is not None and message.emitted_at is not None
        assert message.correlation_id is not None
        names = [s.listener.name for s in subs if s.active and isinstance(s.listener, _Runner)]
        stored = StoredMessage(
            message.id, message.name, message.version,
            message.data.model_dump_json(by_alias=True, exclude_unset=True),
            message.emitted_at, message.correlation_id, message.causation_id, message.producer,
        )
        await self.store.append(stored, names, self.owner, message.emitted_at + self._lease_delta)

    def _lease_until(self) -> datetime:
        return datetime.now(UTC) + self._lease_delta

    @property
    def _lease_delta(self) -> timedelta:
        delta = self._lease_cache
        if delta is None or delta[0] != self.lease:
            delta = self._lease_cache = (self.lease, timedelta(seconds=self.lease))
        return delta[1]

    # -- subscribing ---------------------------------------------------------------------------

    def on(
        self,
        names: str | Sequence[str],
        listener: MessageListener,
        /,
        *,
        mode: Mode = "sync",
        name: str | None = None,
        retry: RetryPolicy | None = None,
        remote: bool | None = None,
    ) -> Callable[[], None]:
        """Subscribe under a stable subscriber `name` (default `module:qualname` of the listener).

        Every name must be declared in the catalog; one subscriber name belongs to one listener.
        `retry` overrides the catalog's retry policy for this subscriber (stores only).
        `remote` (on a bus with a transport) consumes the names from the broker; the default is
        True when they are distributed; `remote=False` takes them from local emits only. A remote
        subscriber cannot be `sync` (the publisher does not wait across the wire).
        """
        selected = _names(names)
        specs = [self._spec(event_name) for event_name in selected]
        if isinstance(getattr(listener, "__self__", None), Once) or isinstance(listener, _Runner):
            return super().on(selected, listener, mode=mode)
        if name is None:
            qualname = getattr(listener, "__qualname__", repr(listener))
            name = f"{getattr(listener, '__module__', '?')}:{qualname}"
        known = self.subscribers.get(name)
        if known is not None and known.listener != listener:
            raise ValueError(
                f"subscriber name {name!r} is already used by {known.listener!r}; pass a unique name="
            )
        remote = self._is_remote(name, selected, specs, mode, remote)
        if known is not None and known.remote != remote:
            raise ValueError(f"subscriber {name!r} is already {'remote' if known.remote else 'local'}")
        if self.store is None:
            off = super().on(selected, listener, mode=mode)
        else:
            runner = self._runners.get(name)
            if runner is None:
                runner = self._runners[name] = _Runner(self, name, listener, mode, retry)
                self._runner_of[listener] = runner
            elif runner.mode != mode:
                raise ValueError(f"subscriber {name!r} is already subscribed in {runner.mode} mode")
            if remote:
                assert self._consumers is not None
                self._consumers.add(runner, selected)
                off = partial(self.off, selected, listener)
            else:
                off = super().on(selected, runner, mode=mode)
        merged = tuple(dict.fromkeys((*(known.names if known else ()), *selected)))
        self.subscribers[name] = Subscriber(name, merged, listener, mode, retry, remote)
        return off

    def _is_remote(self, name: str, selected: tuple[str, ...], specs: list[MessageSpec], mode: Mode,
                   remote: bool | None) -> bool:
        distributed = [spec.name for spec in specs if spec.distributed]
        if remote is None:
            remote = self.transport is not None and bool(distributed)
        if not remote:
            return False
        if self.transport is None:
            raise ValueError(f"subscriber {name!r}: remote=True needs an EventBus with a transport")
        local = [n for n in selected if n not in distributed]
        if local:
            raise ValueError(
                f"subscriber {name!r}: {', '.join(map(repr, local))} not distributed, so it never"
                " crosses the wire: subscribe to it under another name, or pass remote=False"
            )
        if mode == "sync":
            raise ValueError(
                f"subscriber {name!r}: sync mode cannot be honoured across the wire (the publisher"
                " does not wait for another process): use mode='async' or 'serial', or pass"
                " remote=False to take only this process's emits"
            )
        return True

    def off(self, names: str | Sequence[str], listener: MessageListener, /) -> None:
        """Remove `listener` (or its named subscriber) from one or more names."""
        runner = self._runner_of.get(listener)
        if runner is not None and self._consumers is not None and runner.name in self._consumers.names:
            self._consumers.remove(runner.name, _names(names))
            return
        super().off(names, runner if runner is not None else listener)

    def clear_listeners(self, names: str | Sequence[str] | None = None, /) -> None:
        """As `Emittery.clear_listeners`; remote subscribers of the names stop consuming too (the
        outbox relay stays: distributed messages are always relayed)."""
        super().clear_listeners(names)
        if self._consumers is not None:
            selected = None if names is None else set(_names(names))
            for subscriber, taken in list(self._consumers.names.items()):
                dropped = tuple(n for n in taken if selected is None or n in selected)
                if dropped:
                    self._consumers.remove(subscriber, dropped)

    def once(
        self, names: str | Sequence[str], predicate: Callable[[Any], object] | None = None, /
    ) -> Once[Message[Any]]:
        """Like `Emittery.once`, for declared names only; resolves to the first matching Message."""
        for event_name in _names(names):
            self._spec(event_name)
        return super().once(names, predicate)  # type: ignore[return-value]

    def events(self, names: str | Sequence[str], /) -> EventIterator[Message[Any]]:
        """Like `Emittery.events`, for declared names only; yields Messages."""
        for event_name in _names(names):
            self._spec(event_name)
        return super().events(names)  # type: ignore[return-value]

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        """Start the task group; with a store, open it and start claiming due deliveries."""
        await super().__aenter__()
        if self.store is None:
            return self
        try:
            await self.store.open()
        except BaseException:
            await super().__aexit__(None, None, None)
            raise
        assert self._tg is not None
        self.store.start(self._tg)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"
        self._closing = self._abandoning = False
        for runner in self._runners.values():
            runner.halted = False
        self._stopped = anyio.Event()
        outer = self._tg
        assert outer is not None
        loops = [self._claim_loop, self._renew_loop]
        if self.store.notifies:
            loops.append(self._signal_loop)
        self._loops_done = []
        for loop in loops:
            done = anyio.Event()
            self._loops_done.append(done)
            outer.start_soon(self._until_closing, loop, done)
        # Deliveries run in an inner task group, so a timed-out shutdown can cancel them alone.
        self._outer_tg = outer
        self._tg = await outer.start(self._delivery_group)
        if self.transport is not None and self._consumers is not None:
            await self.transport.open(self.catalog.name)
            await self._consumers.start()
        return self

    async def _delivery_group(self, *, task_status: anyio.abc.TaskStatus[TaskGroup]) -> None:
        async with anyio.create_task_group() as inner:
            task_status.started(inner)
            await anyio.sleep_forever()

    async def _until_closing(self, loop: Callable[[], Any], done: anyio.Event) -> None:
        try:
            await loop()
        finally:
            done.set()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        """Without a store: drain, as `Emittery`. With one: shut down gracefully (see the class)."""
        if self.store is None or self._tg is None:
            return await super().__aexit__(exc_type, exc, tb)
        self._closing = True
        assert self._stopped is not None
        self._stopped.set()
        if self._consumers is not None:
            self._consumers.stop()  # no new messages from the broker; those under way finish
        with anyio.CancelScope(shield=True):
            with anyio.move_on_after(self.shutdown_timeout if exc is None else 0):
                await self._wait_idle()
            self._abandoning = True
            inner, self._tg = self._tg, self._outer_tg
            inner.cancel_scope.cancel()  # the deliveries still running, if any
            if self._consumers is not None:
                self._consumers.abandon()
            with anyio.move_on_after(self.shutdown_timeout):
                await self._wait_idle()
                for done in self._loops_done:
                    await done.wait()
            self._release_queued()
            try:
                await self.store.close()
            finally:
                self._stopped = None
                if self.transport is not None:
                    await self.transport.close()
        return await super().__aexit__(exc_type, exc, tb)

    def _release_queued(self) -> None:
        # Deliveries still queued when their workers were cancelled go back to `pending`.
        assert self.store is not None
        for queue in (self._async, *self._serial.values()):
            while queue.items:
                item = queue.items.popleft()
                sub, event = item[0], item[1]
                runner = getattr(sub.listener, "__self__", sub.listener)
                if isinstance(runner, _Runner) and isinstance(event, Message):
                    self.store.record(Outcome(event.id, runner.name, "pending", datetime.now(UTC),
                                              attempts_delta=-1))
                self._outstanding -= 1
        if self._outstanding:
            log.warning("%d deliveries ignored cancellation at shutdown; they stay running until"
                        " their lease ends", self._outstanding)
            self._outstanding = 0

    async def serve(self, signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM)) -> None:
        """Run the bus (retries, recovery, replays set in SQL) until one of `signals` arrives,
        then shut down gracefully, as leaving `async with bus:` does. Call it from the main thread."""
        if self._tg is not None:
            await self._until_signal(signals)
            return
        async with self:
            await self._until_signal(signals)

    async def _until_signal(self, signals: Sequence[signal.Signals]) -> None:
        with anyio.open_signal_receiver(*signals) as received:
            async for signum in received:
                log.warning("%s received: shutting down gracefully", signal.Signals(signum).name)
                return

    async def _wait_idle(self) -> None:
        while self._outstanding:
            self._drained = anyio.Event()
            await self._drained.wait()
        self._drained = None

    async def _pause_until(self, when: datetime) -> bool:
        """Sleep until `when`; True if the bus began to shut down meanwhile."""
        stopped = self._stopped
        if stopped is None:
            return True
        with anyio.move_on_after(max(0.0, (when - datetime.now(UTC)).total_seconds())):
            await stopped.wait()
        return self._closing

    async def drain(self) -> None:
        """Wait until every queued async/serial delivery has finished (retries of serial
        subscribers included); new emits may queue more meanwhile."""
        await self._wait_idle()

    # -- background loops ----------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        assert self.store is not None and self._stopped is not None
        stopped = self._stopped
        while not self._closing:
            claimed = 0
            if self._outstanding < self.max_in_flight and self._live_runners():
                try:
                    claimed = await self.claim_due()
                except Exception as exc:
                    log.warning("claiming due deliveries failed: %r", exc)
            if claimed >= self.claim_batch:
                await anyio.lowlevel.checkpoint()
                continue
            self._claim_wakeup = wakeup = anyio.Event()
            with anyio.move_on_after(self.poll_interval):
                async with anyio.create_task_group() as tg:
                    async def wait(event: anyio.Event) -> None:
                        await event.wait()
                        tg.cancel_scope.cancel()

                    tg.start_soon(wait, wakeup)
                    tg.start_soon(wait, stopped)
        self._claim_wakeup = None

    def _wake_claims(self) -> None:
        if self._claim_wakeup is not None:
            self._claim_wakeup.set()

    async def _renew_loop(self) -> None:
        assert self.store is not None and self._stopped is not None
        stopped = self._stopped
        while not self._closing:
            with anyio.move_on_after(self.lease / 3):
                await stopped.wait()
            if self._closing:
                return
            try:
                await self.store.renew(self.owner, self._lease_until())
            except Exception as exc:
                log.warning("renewing leases failed: %r", exc)
            if self._consumers is not None:
                await self._consumers.progress()

    async def _signal_loop(self) -> None:
        assert self.store is not None
        while not self._closing:
            if await self.store.wait_signal(min(self.poll_interval, 0.5)):
                self._wake_claims()

    async def claim_due(self) -> int:
        """Claim the due deliveries of this bus's subscribers now (the background loop does this
        every `poll_interval`) and queue them; returns how many were claimed."""
        store = self.store
        assert store is not None and self._tg is not None
        now = datetime.now(UTC)
        claims = await store.claim(
            self.owner, list(self._live_runners()), now, now + timedelta(seconds=self.lease),
            min(self.claim_batch, self.max_in_flight - self._outstanding),
        )
        for claim in claims:
            self._dispatch(claim)
        return len(claims)

    def _live_runners(self) -> dict[str, _Runner]:
        """The persisted subscribers still subscribed (`off` and `clear_listeners` end them)."""
        live = {id(sub.listener) for subs in self._listeners.values() for sub in subs if sub.active}
        remote = self._consumers.names if self._consumers is not None else {}
        if self._relay is not None:
            live.add(id(self._relay.listener))
        return {name: r for name, r in self._runners.items() if id(r) in live or name in remote}

    def _dispatch(self, claim: Claim) -> None:
        assert self.store is not None
        runner = self._live_runners().get(claim.subscriber)
        stored = claim.message
        if runner is None or self._tg is None:
            self.store.record(Outcome(stored.id, claim.subscriber, "pending", datetime.now(UTC),
                                      attempts_delta=-1))
            return
        try:
            spec = self.catalog.get(stored.name)
            payload = spec.model.model_validate_json(stored.payload)
        except (KeyError, pydantic.ValidationError) as exc:
            self.store.record(Outcome(stored.id, claim.subscriber, "dead", datetime.now(UTC),
                                      error=f"cannot load the stored message: {exc}"))
            return
        message = _new_message(stored.name, payload, stored.id, stored.version,
                               stored.correlation_id, stored.causation_id, claim.attempt,
                               stored.emitted_at, stored.producer)
        mode: Mode = "serial" if runner.mode == "serial" else "async"
        queue = self._queue_for(runner, mode)
        token = current_event.set(message)  # the delivery runs in a copy of this context
        try:
            self._enqueue(_Sub(runner.background, mode, queue), message)
        finally:
            current_event.reset(token)

    # -- replay --------------------------------------------------------------------------------

    async def replay(
        self, message_id: UUID | str, subscriber: str | None = None, *, wait: bool = True,
        timeout: float | None = None, progress: Callable[[int, int], object] | None = None,
    ) -> list[Delivery]:
        """Run the deliveries of one message again (only `subscriber`'s when given; never a
        running one): they go back to `pending` with a fresh retry budget and this bus (or any
        bus sharing the store) runs them. With `wait`, returns their rows once each succeeded
        or went dead (retries included) or `timeout` passed, else at once; `progress(done,
        total)` is called as they finish."""
        message_id = message_id if isinstance(message_id, UUID) else UUID(str(message_id))
        store = self._started_store("replay")
        keys = await store.reset(message_id=message_id, subscriber=subscriber)
        return await self._after_reset(keys, wait, timeout, progress)

    async def replay_failed(
        self, subscriber: str | None = None, since: datetime | None = None, name: str | None = None,
        *, wait: bool = True, timeout: float | None = None,
        progress: Callable[[int, int], object] | None = None,
    ) -> list[Delivery]:
        """Run every `failed` or `dead` delivery again (filtered by subscriber, by the time of the
        failure `since`, by message name), as `replay` does."""
        store = self._started_store("replay")
        keys = await store.reset(subscriber=subscriber, since=since, name=name,
                                 statuses=("failed", "dead"))
        return await self._after_reset(keys, wait, timeout, progress)

    def _started_store(self, what: str) -> Store:
        if self.store is None:
            raise RuntimeError(f"{what} needs an EventBus with a store")
        if self._tg is None or self._closing:
            raise RuntimeError(f"{what} needs a started bus: call it inside `async with bus:`")
        return self.store

    async def _after_reset(
        self, keys: list[tuple[UUID, str]], wait: bool, timeout: float | None,
        progress: Callable[[int, int], object] | None,
    ) -> list[Delivery]:
        assert self.store is not None
        self._wake_claims()
        done: dict[tuple[UUID, str], Delivery] = {}
        if wait and keys:
            final: tuple[Status, ...] = ("succeeded", "dead")
            with anyio.move_on_after(timeout):
                while len(done) < len(keys):
                    for row in await self.store.deliveries([k for k in keys if k not in done]):
                        if row.status in final:
                            done[(row.message_id, row.subscriber)] = row
                    if progress is not None:
                        progress(len(done), len(keys))
                    if len(done) < len(keys):
                        await anyio.sleep(0.05)
        rest = {(r.message_id, r.subscriber): r
                for r in await self.store.deliveries([k for k in keys if k not in done])}
        found = [done.get(k) or rest.get(k) for k in keys]
        return [row for row in found if row is not None]
