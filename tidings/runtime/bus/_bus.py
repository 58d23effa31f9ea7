"""`EventBus`: the catalog-aware bus. Every payload is validated into its model; listeners get a
`Message`. With a store, every message is persisted, retried, recoverable and replayable."""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from types import TracebackType
from typing import Any, Self, TypeVar
from uuid import UUID

import anyio

from tidings.runtime._clock import SYSTEM_CLOCK, Clock
from tidings.runtime._event import Message
from tidings.runtime._records import build_message, to_stored
from tidings.runtime._retry import RetryPolicy
from tidings.runtime._spec import CatalogSpec, MessageSpec
from tidings.runtime._telemetry import slot
from tidings.runtime._upcast import Upcasters
from tidings.runtime.bus._lifecycle import Lifecycle, until_signal
from tidings.runtime.bus._runner import MessageListener, Runner
from tidings.runtime.bus._settled import settled
from tidings.runtime.bus._subscribers import Subscriber, Subscribers, UnknownSubscriberError
from tidings.runtime.bus._worker import Worker
from tidings.runtime.emitter import (
    DebugOptions,
    Emittery,
    EventIterator,
    Mode,
    Once,
    Subscription,
    current_event,
    event_names,
)
from tidings.runtime.stores._base import Delivery, Store, StoredMessage
from tidings.runtime.stores._storable import check_storable
from tidings.runtime.transports._base import Transport

_F = TypeVar("_F", bound=Callable[[Any], Any])


class EmitError(ExceptionGroup[Exception]):
    """The listener errors of one `EventBus.emit` (flat, like Emittery's); `emitted` is the
    message that was emitted (and stored), so its id can be found in the log."""

    emitted: Message[Any]


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
    The shutdown never takes much longer than `shutdown_timeout` (a one-second grace for the
    cancelled to record their outcome): a handler that ignores its cancellation is left running
    detached, logged as an ERROR naming it, and its row, still `running`, runs again at a start
    once the lease ends (at-least-once). A background handler's `KeyboardInterrupt` or
    `SystemExit`, its attempt recorded, stops the bus at once and is raised from `async with`.
    `once()` waiters, `events()` iterators and `on_any` listeners observe messages without
    delivery rows. At most `max_in_flight` deliveries are claimed from the log at once, and
    each remote subscriber has at most `max_in_flight` messages from the broker in hand.

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
        self, catalog: CatalogSpec, *, store: Store | None = None, debug: DebugOptions | None = None,
        lease: float = 30.0, poll_interval: float = 0.5, shutdown_timeout: float = 10.0,
        claim_batch: int = 200, max_in_flight: int = 2000, transport: Transport | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        super().__init__(debug=debug)
        self.catalog = catalog
        self.store = store
        """The event log (None: a plain in-memory bus, nothing stored)."""
        self.transport = transport
        """The broker distributed messages cross (None: everything stays in this process)."""
        if transport is not None and store is None:
            raise ValueError("an EventBus with a transport needs a store: the outbox and the"
                             " remote subscribers' deliveries live in the event log")
        self.clock = clock
        """Where retry times, due deliveries and leases read the time (the real clock unless a
        test passes one it controls)."""
        self._lifecycle = Lifecycle(lease, clock)
        self._upcasters = Upcasters(catalog)
        self._subscribers = Subscribers(catalog, store, self._lifecycle, transport is not None)
        self.subscribers: dict[str, Subscriber] = self._subscribers.by_name
        """Every named subscriber (the outbox relay's too), by name."""
        self._worker = None if store is None else Worker(
            store, catalog, self.dispatcher, self._lifecycle, self._subscribers, transport,
            poll_interval=poll_interval, shutdown_timeout=shutdown_timeout, claim_batch=claim_batch,
            max_in_flight=max_in_flight, upcasters=self._upcasters)
        self._consumers = None if self._worker is None else self._worker.consumers
        self._relay = None if self._worker is None else self._worker.relay
        self._relay_names = frozenset() if self._worker is None else self._worker.relay_names
        self.lease, self.poll_interval, self.shutdown_timeout = lease, poll_interval, shutdown_timeout
        self.claim_batch, self.max_in_flight = claim_batch, max_in_flight
        """The settings as constructed, for reading (changing them later has no effect)."""

    @property
    def owner(self) -> str:
        """This bus's identity in `deliveries.owner` while started: host:pid:random."""
        return self._lifecycle.owner

    # -- messages and emitting -----------------------------------------------------------------

    def _spec(self, name: object) -> MessageSpec:
        if not isinstance(name, str):
            raise TypeError(f"event name must be a str, got {name!r}")
        return self.catalog.get(name)

    def _declared(self, names: str | Sequence[str]) -> tuple[str, ...]:
        selected = event_names(names)
        for name in selected:
            self._spec(name)
        return selected

    def message(self, name: str, data: object = None, /, *, producer: str | None = None) -> Message[Any]:
        """Validate `data` (a model instance, or anything the model parses) and wrap it in a new
        Message (caused by the message being handled, if any).

        Raises KeyError for a name the catalog lacks and pydantic.ValidationError for a bad payload.
        (`publish` on a bus with a store also raises `UnstorableError`, a ValueError, for a
        payload no store can keep and read back: NaN/Infinity, NUL characters, lone surrogates,
        nesting deeper than `MAX_DEPTH`.)
        """
        return build_message(self._spec(name), data, producer)

    async def emit(self, name: str, data: Any = None, /, *, producer: str | None = None) -> None:
        """Validate, (store,) then deliver like `Emittery.emit` (sync listeners awaited, errors grouped)."""
        await self.publish(name, data, producer=producer)

    async def publish(
        self, name: str, data: object = None, /, *, producer: str | None = None
    ) -> Message[Any]:
        """`emit`, returning the delivered `Message` (its id identifies it in the log).

        A distributed message over the broker's size limit (NATS's `max_payload`, once the
        transport has connected; SNS's 256 KiB) raises `MessageTooLarge`, naming the message,
        its size and the limit, before anything is stored or run."""
        hooks = slot.hooks
        if hooks is not None:
            return await hooks.publish(name, partial(self._publish, name, data, producer))
        return await self._publish(name, data, producer, None)

    async def _publish(self, name: str, data: object, producer: str | None, traceparent: str | None
                       ) -> Message[Any]:
        message, stored, subs = self._accept(name, data, producer, "emit", traceparent)
        if stored is not None:
            await self._append(message, stored, subs)
        if subs:
            errors: list[Exception] = []
            token = current_event.set(message)
            try:
                await self.dispatcher.run(subs, 0, message, errors)
            finally:
                current_event.reset(token)
            if errors:
                error = EmitError(f"{len(errors)} listener(s) of {name!r} failed", errors)
                error.emitted = message
                raise error
        return message

    async def emit_serial(self, name: str, data: Any = None, /, *, producer: str | None = None) -> None:
        """Validate, (store,) then run the listeners one after another (the first error propagates)."""
        hooks = slot.hooks
        if hooks is not None:
            await hooks.publish(name, partial(self._emit_serial, name, data, producer))
        else:
            await self._emit_serial(name, data, producer, None)

    async def _emit_serial(self, name: str, data: object, producer: str | None,
                           traceparent: str | None) -> Message[Any]:
        message, stored, subs = self._accept(name, data, producer, "emit_serial", traceparent)
        if stored is not None:
            await self._append(message, stored, subs)
        token = current_event.set(message)
        try:
            await self.dispatcher.run_serially(subs, message)
        finally:
            current_event.reset(token)
        return message

    def _accept(self, name: str, data: object, producer: str | None, kind: str,
                traceparent: str | None = None
                ) -> tuple[Message[Any], StoredMessage | None, tuple[Subscription, ...]]:
        # The message, validated; its stored form (with a store); its deliveries (the relay's
        # too). Whatever cannot be stored, or relayed, is refused here: nothing ran or changed.
        stored = None
        if self.store is not None:
            self._lifecycle.check_emit(name, self.started, isinstance(current_event.get(), Message))
        message = build_message(self._spec(name), data, producer, traceparent)
        if self.store is not None:
            check_storable(message.data)  # what the log could not give back is refused here
            stored = to_stored(message)
        relay = self._relay if name in self._relay_names else None
        if relay is not None:
            assert self.transport is not None and stored is not None
            self.transport.check_size(stored)  # MessageTooLarge: the broker could never take it
        subs = self.dispatcher.prepare(message, kind)
        if relay is not None:
            relay.queue = self.dispatcher.async_queue  # this start's queue
            subs = (*subs, relay)
        return message, stored, subs

    async def _append(self, message: Message[Any], stored: StoredMessage,
                      subs: tuple[Subscription, ...]) -> None:
        # The message and a delivery row per persisted subscriber, in one transaction.
        # Shielded: once the append is queued it commits whatever the caller does, so a caller
        # cancelled meanwhile (a request deadline) must still hand the message to its
        # subscribers, which the caller's next lines do before any checkpoint.
        assert self.store is not None and message.emitted_at is not None
        names = [s.listener.name for s in subs if s.active and isinstance(s.listener, Runner)]
        with anyio.CancelScope(shield=True):
            await self.store.append(stored, names, self._lifecycle.owner,
                                    message.emitted_at + self._lifecycle.lease_delta)

    # -- versions ------------------------------------------------------------------------------

    def upcaster(self, name: str, /, from_version: int) -> Callable[[_F], _F]:
        """Decorate the function that turns a payload of `name`'s version `from_version` into
        one of the next version (a dict, or a model instance). It gets the catalog's kept model
        of that version when the catalog has one (`models.v1.OrderPlaced`), else the stored
        JSON object as a dict.

        Stored messages keep the version and payload they were written with; whenever one
        older than the catalog's version is read (replay, crash recovery, retries, a message
        received from the broker), the upcasters from its version on run in turn (v1 -> v2 ->
        v3) before the payload is validated. A stored version with no upcaster on its way up
        goes `dead`, saying which one to add. KeyError for a name the catalog lacks; ValueError
        for a `from_version` not older than the catalog's version or registered twice.
        """
        return self._upcasters.decorator(name, from_version)

    # -- subscribing ---------------------------------------------------------------------------

    def on(
        self, names: str | Sequence[str], listener: MessageListener, /, *, mode: Mode = "sync",
        name: str | None = None, retry: RetryPolicy | None = None, remote: bool | None = None,
    ) -> Callable[[], None]:
        """Subscribe under a stable subscriber `name` (default `module:qualname` of the listener).

        Every name must be declared in the catalog; one subscriber name belongs to one listener.
        `retry` overrides the catalog's retry policy for this subscriber (stores only).
        `remote` (on a bus with a transport) consumes the names from the broker; the default is
        True when they are distributed; `remote=False` takes them from local emits only. A remote
        subscriber cannot be `sync` (the publisher does not wait across the wire).
        """
        selected = event_names(names)
        specs = [self._spec(event_name) for event_name in selected]
        if isinstance(getattr(listener, "__self__", None), Once) or isinstance(listener, Runner):
            return super().on(selected, listener, mode=mode)
        subscriber = self._subscribers.admit(listener, selected, specs, mode, name, retry, remote)
        if self.store is None:
            off = super().on(selected, listener, mode=mode)
        else:
            runner = self._subscribers.runner(subscriber)
            if subscriber.remote:
                assert self._consumers is not None
                self._consumers.add(runner, selected)
                off = partial(self.off, selected, listener)
            else:
                off = super().on(selected, runner, mode=mode)
        self._subscribers.register(subscriber)
        return off

    def off(self, names: str | Sequence[str], listener: MessageListener, /) -> None:
        """Remove `listener` (or its named subscriber) from one or more names."""
        runner = self._subscribers.runner_of.get(listener)
        if runner is not None and self._consumers is not None and runner.name in self._consumers.names:
            self._consumers.remove(runner.name, event_names(names))
            return
        super().off(names, runner if runner is not None else listener)

    def replace_listener(self, subscriber: str, listener: MessageListener, /) -> MessageListener:
        """Run `listener` for the named `subscriber` from now on, keeping its name, events,
        mode, retry policy and log rows (a test swaps a handler for a recorder this way);
        returns the listener it replaced. Needs a store; KeyError for an unknown subscriber."""
        if self.store is None:
            raise RuntimeError("replace_listener needs an EventBus with a store")
        if subscriber not in self._subscribers.runners:
            raise KeyError(f"no subscriber named {subscriber!r}; known: {sorted(self.subscribers)}")
        return self._subscribers.replace_listener(subscriber, listener)

    def clear_listeners(self, names: str | Sequence[str] | None = None, /) -> None:
        """As `Emittery.clear_listeners`; remote subscribers of the names stop consuming too (the
        outbox relay stays: distributed messages are always relayed)."""
        super().clear_listeners(names)
        if self._consumers is not None:
            self._consumers.clear(None if names is None else event_names(names))

    def once(
        self, names: str | Sequence[str], /, predicate: Callable[[Any], object] | None = None
    ) -> Once[Message[Any]]:
        """Like `Emittery.once` (predicate by position or keyword), for declared names only;
        resolves to the first matching Message."""
        return super().once(self._declared(names), predicate)  # type: ignore[return-value]

    def events(self, names: str | Sequence[str], /) -> EventIterator[Message[Any]]:
        """Like `Emittery.events`, for declared names only; yields Messages."""
        return super().events(self._declared(names))  # type: ignore[return-value]

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        """Start the task group; with a store, open it and start claiming due deliveries."""
        await super().__aenter__()
        if self.store is None or self._worker is None:
            return self
        try:
            await self.store.open()
        except BaseException:
            await super().__aexit__(None, None, None)
            raise
        await self._worker.start()
        if (hooks := slot.hooks) is not None:
            relay = None if self._relay is None else self._relay.listener
            hooks.watch(self.store, self.catalog.name,
                        [relay.name] if isinstance(relay, Runner) else [], self._lifecycle)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        """Without a store: drain, as `Emittery`. With one: shut down gracefully (see the class),
        then raise the KeyboardInterrupt/SystemExit a background handler raised, if one did."""
        if self._worker is not None and self.started:
            await self._worker.stop(failed=exc is not None or self._lifecycle.interrupted is not None)
        suppress = await super().__aexit__(exc_type, exc, tb)
        interrupted, self._lifecycle.interrupted = self._lifecycle.interrupted, None
        if interrupted is not None:
            raise interrupted
        return suppress

    async def serve(self, signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM)) -> None:
        """Run the bus (retries, recovery, replays set in SQL) until one of `signals` arrives,
        then shut down gracefully, as leaving `async with bus:` does. Call it from the main thread."""
        if self.started:
            await until_signal(signals)
            return
        async with self:
            await until_signal(signals)

    async def drain(self) -> None:
        """Wait until every queued async/serial delivery has finished (retries of serial
        subscribers included); new emits may queue more meanwhile."""
        await self.dispatcher.wait_idle()

    async def claim_due(self) -> int:
        """Claim the due deliveries of this bus's subscribers now (the background loop does this
        every `poll_interval`) and queue them; returns how many were claimed."""
        return await self._running("claim_due").claim_due()

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
        worker = self._running("replay")
        keys = await self._reset(worker, message_id=message_id, subscriber=subscriber)
        return await worker.rerun(keys, wait, timeout, progress)

    async def replay_failed(
        self, subscriber: str | None = None, since: datetime | None = None, name: str | None = None,
        *, wait: bool = True, timeout: float | None = None,
        progress: Callable[[int, int], object] | None = None,
    ) -> list[Delivery]:
        """Run every `failed` or `dead` delivery again (filtered by subscriber, by the time of the
        failure `since`, by message name), as `replay` does."""
        worker = self._running("replay")
        keys = await self._reset(worker, subscriber=subscriber, since=since, name=name,
                                 statuses=("failed", "dead"))
        return await worker.rerun(keys, wait, timeout, progress)

    async def _reset(self, worker: Worker, **match: Any) -> list[tuple[UUID, str]]:
        # Refuse before any row changes when a matching delivery's subscriber is not on this bus
        # (it would go back to `pending` with nobody to run it); then reset only known ones.
        known = sorted(worker.live_runners())
        matching = await worker.store.reset(**match, dry_run=True)
        missing = sorted({sub for _, sub in matching if sub not in known})
        if missing:
            raise UnknownSubscriberError(missing, known)
        keys = await worker.store.reset(**match, subscribers=known)
        if (hooks := slot.hooks) is not None:
            hooks.replaying(keys)
        return keys

    async def settled(
        self, keys: Sequence[tuple[UUID, str]] | UUID, *, timeout: float | None = None,
        progress: Callable[[int, int], object] | None = None,
    ) -> list[Delivery]:
        """Wait until the deliveries `keys` ((message id, subscriber) pairs, or all of one
        message id) succeeded or went dead, or `timeout` passed; their rows then (see `replay`)."""
        if self.store is None:
            raise RuntimeError("settled needs an EventBus with a store")
        await self.store.flush()
        return await settled(self.store, keys, timeout=timeout, progress=progress)

    def _running(self, what: str) -> Worker:
        if self._worker is None:
            raise RuntimeError(f"{what} needs an EventBus with a store")
        if not self._lifecycle.running:
            raise RuntimeError(f"{what} needs a started bus: call it inside `async with bus:`")
        return self._worker
