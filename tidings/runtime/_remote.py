"""The two ends of a transport on an `EventBus`: the outbox relay (a persisted subscriber that
publishes distributed messages to the broker) and the remote subscribers' consumers (broker ->
this bus's log -> the handler -> ack, nak with backoff, or dead in the log)."""

from __future__ import annotations

import logging
from contextvars import copy_context
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio
import pydantic

from tidings.runtime._eager import resume, start
from tidings.runtime._emitter import current_event
from tidings.runtime._event import Message
from tidings.runtime.stores._base import Outcome, StoredMessage
from tidings.runtime.transports._base import Incoming, RemoteSubscription, Transport

if TYPE_CHECKING:
    from tidings.runtime._bus import EventBus, _Runner

log = logging.getLogger("tidings.bus")


def stored(message: Message[Any]) -> StoredMessage:
    """`message` as the log stores it (and as it travels)."""
    assert message.emitted_at is not None and message.correlation_id is not None
    return StoredMessage(
        message.id, message.name, message.version,
        message.data.model_dump_json(by_alias=True, exclude_unset=True),
        message.emitted_at, message.correlation_id, message.causation_id, message.producer,
    )


class Relay:
    """The outbox relay: subscribed (persisted, async) to every distributed name, it publishes
    each message to the broker; its delivery row is the outbox entry (`succeeded` = relayed)."""

    __slots__ = ("__name__", "__qualname__", "transport")

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.__name__ = self.__qualname__ = f"relay:{transport.kind}"

    def __repr__(self) -> str:
        return f"<outbox relay to {self.transport!r}>"

    async def __call__(self, message: Message[Any]) -> None:
        await self.transport.publish(stored(message))


class Consumers:
    """The remote subscribers of one bus and the tasks consuming for them while it runs."""

    def __init__(self, bus: EventBus, transport: Transport) -> None:
        self.bus = bus
        self.transport = transport
        self.owner = f"broker:{transport.kind}"
        self.names: dict[str, tuple[str, ...]] = {}
        self.scopes: dict[str, anyio.CancelScope] = {}
        self.max_in_flight = 2000
        self.handling: set[Incoming] = set()
        self.running: set[anyio.CancelScope] = set()

    def add(self, runner: _Runner, names: tuple[str, ...]) -> None:
        """Consume `names` for `runner` (now, if the bus runs; else from its start)."""
        known = self.names.get(runner.name, ())
        merged = tuple(dict.fromkeys((*known, *names)))
        self.names[runner.name] = merged
        if merged != known and self.bus._outer_tg is not None and not self.bus._closing:
            self.stop(runner.name)
            self.bus._outer_tg.start_soon(self.run, runner)

    def remove(self, subscriber: str, names: tuple[str, ...]) -> None:
        """Stop consuming `names` for `subscriber` (all of them: the subscriber is no longer remote)."""
        left = tuple(n for n in self.names.get(subscriber, ()) if n not in names)
        self.stop(subscriber)
        if left:
            self.names[subscriber] = left
            if self.bus._outer_tg is not None and not self.bus._closing:
                self.bus._outer_tg.start_soon(self.run, self.bus._runners[subscriber])
        else:
            self.names.pop(subscriber, None)

    def subscription(self, runner: _Runner) -> RemoteSubscription:
        """What the transport consumes for `runner`."""
        return RemoteSubscription(
            runner.name, self.names[runner.name], runner.mode == "serial", self.bus.lease,
            1 if runner.mode == "serial" else self.max_in_flight,
        )

    async def start(self) -> None:
        """Declare every remote subscriber's consumer (so nothing published from now on misses
        it; a broker that is away is logged and tried again by the consumer), then consume."""
        assert self.bus._outer_tg is not None
        for name in self.names:
            with anyio.move_on_after(5.0):
                try:
                    await self.transport.declare(self.subscription(self.bus._runners[name]))
                except Exception as exc:
                    log.warning("could not declare remote subscriber %r yet: %r", name, exc)
        for name in self.names:
            self.bus._outer_tg.start_soon(self.run, self.bus._runners[name])

    async def progress(self) -> None:
        """Tell the broker the messages being handled are still in hand (every lease / 3)."""
        for incoming in list(self.handling):
            try:
                await incoming.progress()
            except Exception as exc:
                log.debug("progress on %s failed: %r", incoming.message.id, exc)

    def stop(self, subscriber: str | None = None) -> None:
        """Stop fetching (for one subscriber, or all); deliveries under way finish on their own."""
        for name in [subscriber] if subscriber is not None else list(self.scopes):
            scope = self.scopes.pop(name, None)
            if scope is not None:
                scope.cancel()

    async def run(self, runner: _Runner) -> None:
        subscription = self.subscription(runner)
        with anyio.CancelScope() as scope:
            self.scopes[runner.name] = scope
            try:
                await self.transport.consume(subscription, lambda incoming: self.receive(runner, incoming))
            finally:
                if self.scopes.get(runner.name) is scope:
                    del self.scopes[runner.name]

    async def receive(self, runner: _Runner, incoming: Incoming) -> None:
        """Log the message for `runner` (once, whatever the broker redelivers), run it as an async
        delivery of the bus, and return when it is settled with the broker."""
        bus, store, message = self.bus, self.bus.store, incoming.message
        assert store is not None
        if bus._tg is None or bus._closing:
            return  # not settled: the broker delivers it again
        existing = None
        if incoming.attempt > 1:
            rows = await store.deliveries([(message.id, runner.name)])
            existing = rows[0] if rows else None
            if existing is not None and existing.status in ("succeeded", "dead"):
                await incoming.ack()  # handled before; the ack was lost
                return
        from tidings.runtime._bus import BROKER_LEASE, _new_message

        # Not awaited: the broker keeps the message until the ack, which waits for the log.
        store.append_later(message, [runner.name], self.owner, BROKER_LEASE)
        now = datetime.now(UTC)
        if incoming.attempt > 1:
            store.record(Outcome(message.id, runner.name, "running", now, owner=self.owner,
                                 lease_until=BROKER_LEASE,
                                 attempts_delta=incoming.attempt - (existing.attempts if existing else 1)))
        try:
            payload = bus.catalog.get(message.name).model.model_validate_json(message.payload)
        except (KeyError, pydantic.ValidationError) as exc:
            store.record(Outcome(message.id, runner.name, "dead", now,
                                 error=f"cannot load the received message: {exc}"))
            await store.flush()
            await incoming.ack()
            return
        delivered = _new_message(message.name, payload, message.id, message.version,
                                 message.correlation_id, message.causation_id, incoming.attempt,
                                 message.emitted_at, message.producer)
        # Run here, in a copy of this context with the message current (what the handler sets
        # stays there), shielded from the consumer's stop: deliveries under way finish at
        # shutdown, and one that outlives `shutdown_timeout` is cancelled through `abandon`.
        bus._outstanding += 1
        token = current_event.set(delivered)
        try:
            context = copy_context()
        finally:
            current_event.reset(token)
        try:
            with anyio.CancelScope(shield=True) as scope:
                self.running.add(scope)
                suspended = context.run(start, self.deliver(runner, incoming, delivered))
                if suspended is not None:
                    await resume(suspended, context)
        finally:
            self.running.discard(scope)
            bus._outstanding -= 1
            if not bus._outstanding and bus._drained is not None:
                bus._drained.set()

    def abandon(self) -> None:
        """Cancel the deliveries still running (the shutdown timed out); the broker gets them back."""
        for scope in list(self.running):
            scope.cancel()

    async def deliver(self, runner: _Runner, incoming: Incoming, message: Message[Any]) -> None:
        """Run the handler; record the outcome; ack, nak with the backoff delay, or (dead) ack."""
        store = self.bus.store
        assert store is not None
        self.handling.add(incoming)
        try:
            try:
                result = runner.listener(message)
                if hasattr(result, "__await__"):
                    await result
            except Exception as exc:
                retry_at = runner._failed(message, exc, False, broker=self.owner)
                if retry_at is None:
                    await store.flush()  # dead in the log before the broker forgets it
                    await self._settle(incoming.ack(), message, runner)
                else:
                    # Committed before the nak: the next attempt may run in another process
                    # sharing this log, and its outcome must not be overwritten by this one.
                    await store.flush()
                    delay = max(0.0, (retry_at - datetime.now(UTC)).total_seconds())
                    await self._settle(incoming.retry(delay), message, runner)
            except BaseException:
                with anyio.CancelScope(shield=True), anyio.move_on_after(1.0):
                    await self._settle(incoming.retry(0.0), message, runner)  # someone else's turn
                raise
            else:
                store.record(Outcome(message.id, runner.name, "succeeded", datetime.now(UTC)))
                await store.flush()  # in the log before the ack: a redelivery finds it done
                await self._settle(incoming.ack(), message, runner)
        finally:
            self.handling.discard(incoming)

    async def _settle(self, call: Any, message: Message[Any], runner: _Runner) -> None:
        try:
            await call
        except Exception as exc:
            log.warning("could not settle %s %s for %r with the broker (%r): it will come again",
                        message.name, message.id, runner.name, exc)
