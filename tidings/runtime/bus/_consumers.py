"""The remote subscribers' side of a transport: broker -> this bus's log -> the handler ->
ack, nak with the backoff delay, or dead in the log (and acked)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from contextvars import copy_context
from datetime import UTC, datetime
from typing import Any

import anyio
from anyio.abc import TaskGroup

from tidings.runtime._event import Message
from tidings.runtime._records import load_or_bury, log_fields
from tidings.runtime._telemetry import slot
from tidings.runtime._upcast import Upcasters
from tidings.runtime.bus._lifecycle import Lifecycle
from tidings.runtime.bus._runner import BROKER_LEASE, Runner, as_failure
from tidings.runtime.emitter import Dispatcher, call, current_event, resume, start
from tidings.runtime.stores._base import Outcome, Store
from tidings.runtime.transports._base import Incoming, RemoteSubscription, Transport

log = logging.getLogger("tidings.bus")


class Consumers:
    """The remote subscribers of one bus and the tasks consuming for them while it runs.

    `runners` are the bus's persisted subscribers by name; `max_in_flight` bounds the messages
    handed out and not yet settled, per subscriber (1 for a serial one); deliveries count in
    `dispatcher`'s outstanding work, so draining and shutdown wait for them.
    """

    def __init__(self, transport: Transport, store: Store, upcasters: Upcasters, dispatcher: Dispatcher,
                 lifecycle: Lifecycle, runners: Mapping[str, Runner], max_in_flight: int) -> None:
        self.transport = transport
        self.store = store
        self.upcasters = upcasters
        self.dispatcher = dispatcher
        self.lifecycle = lifecycle
        self.runners = runners
        self.max_in_flight = max_in_flight
        self.owner = f"broker:{transport.kind}"
        self.names: dict[str, tuple[str, ...]] = {}
        """The names each remote subscriber consumes."""
        self.group: TaskGroup | None = None
        """Where the consumers run while the bus runs: its deliveries' (detached) task group."""
        self.scopes: dict[str, anyio.CancelScope] = {}
        self.handling: set[Incoming] = set()
        self.running: set[anyio.CancelScope] = set()

    def add(self, runner: Runner, names: tuple[str, ...]) -> None:
        """Consume `names` for `runner` (now, if the bus runs; else from its start)."""
        known = self.names.get(runner.name, ())
        merged = tuple(dict.fromkeys((*known, *names)))
        self.names[runner.name] = merged
        if merged != known:
            self._restart(runner.name)

    def remove(self, subscriber: str, names: tuple[str, ...]) -> None:
        """Stop consuming `names` for `subscriber` (all of them: the subscriber is no longer remote)."""
        left = tuple(n for n in self.names.get(subscriber, ()) if n not in names)
        self.stop(subscriber)
        if left:
            self.names[subscriber] = left
            self._restart(subscriber)
        else:
            self.names.pop(subscriber, None)

    def clear(self, names: tuple[str, ...] | None) -> None:
        """Stop consuming `names` (every name when None) for every remote subscriber."""
        for subscriber, taken in list(self.names.items()):
            dropped = tuple(n for n in taken if names is None or n in names)
            if dropped:
                self.remove(subscriber, dropped)

    def _restart(self, subscriber: str) -> None:
        group = self.group
        if group is not None and self.lifecycle.running:
            self.stop(subscriber)
            group.start_soon(self.run, self.runners[subscriber])

    def subscription(self, runner: Runner) -> RemoteSubscription:
        """What the transport consumes for `runner`."""
        serial = runner.mode == "serial"
        return RemoteSubscription(runner.name, self.names[runner.name], serial, self.lifecycle.lease,
                                  1 if serial else self.max_in_flight)

    async def start(self, group: TaskGroup) -> None:
        """Declare every remote subscriber's consumer (so nothing published from now on misses
        it; a broker that is away is logged and tried again by the consumer), then consume in
        `group` (the bus's deliveries' task group: a shutdown does not wait past its deadline
        for a handler that ignores cancellation)."""
        self.group = group
        for name in self.names:
            with anyio.move_on_after(5.0):
                try:
                    await self.transport.declare(self.subscription(self.runners[name]))
                except Exception as exc:
                    log.warning("could not declare remote subscriber %r yet: %r", name, exc)
        for name in self.names:
            group.start_soon(self.run, self.runners[name])

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

    def abandon(self) -> None:
        """Cancel the deliveries still running (the shutdown timed out); the broker gets them back."""
        for scope in list(self.running):
            scope.cancel()

    async def run(self, runner: Runner) -> None:
        """Consume for `runner` until stopped."""
        subscription = self.subscription(runner)
        with anyio.CancelScope() as scope:
            self.scopes[runner.name] = scope
            try:
                await self.transport.consume(subscription, lambda incoming: self.receive(runner, incoming))
            finally:
                if self.scopes.get(runner.name) is scope:
                    del self.scopes[runner.name]

    async def receive(self, runner: Runner, incoming: Incoming) -> None:
        """Log the message for `runner` (once, whatever the broker redelivers), run it as a
        background delivery of the bus, and return when it is settled with the broker."""
        store, message = self.store, incoming.message
        if not self.lifecycle.taking_work:
            return  # not settled: the broker delivers it again
        existing = None
        if incoming.attempt > 1:
            rows = await store.deliveries([(message.id, runner.name)])
            existing = rows[0] if rows else None
            if existing is not None and existing.status in ("succeeded", "dead"):
                await incoming.ack()  # handled before; the ack was lost
                return
        # Not awaited: the broker keeps the message until the ack, which waits for the log.
        store.append_later(message, [runner.name], self.owner, BROKER_LEASE)
        if incoming.attempt > 1:
            store.record(Outcome(message.id, runner.name, "running", datetime.now(UTC), owner=self.owner,
                                 lease_until=BROKER_LEASE,
                                 attempts_delta=incoming.attempt - (existing.attempts if existing else 1)))
        delivered = load_or_bury(store, self.upcasters, message, runner.name, incoming.attempt, "received")
        if delivered is None:
            await store.flush()
            await incoming.ack()
            return
        # Run here, in a copy of this context with the message current (what the handler sets
        # stays there), shielded from the consumer's stop: deliveries under way finish at
        # shutdown, and one that outlives `shutdown_timeout` is cancelled through `abandon`.
        self.dispatcher.hold()
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
            self.dispatcher.release()

    async def deliver(self, runner: Runner, incoming: Incoming, message: Message[Any]) -> None:
        """Run the handler; record the outcome; ack, nak with the backoff delay, or (dead) ack."""
        store = self.store
        self.handling.add(incoming)
        runner.in_flight.add(message.id)
        hooks = slot.hooks
        span = None if hooks is None else hooks.attempt(message, runner.name, self.transport.kind)
        stop: BaseException | None = None
        try:
            try:
                try:
                    if (pending := call(runner.listener, message)) is not None:
                        await pending
                except Exception:
                    raise
                except BaseException as other:
                    if (failure := as_failure(other)) is None:
                        raise
                    if isinstance(other, (KeyboardInterrupt, SystemExit)):
                        stop = other  # raised once the attempt is recorded and settled
                        self.lifecycle.interrupting(stop)
                    raise failure from other
            except Exception as exc:
                retry_at = runner.failed(message, exc, False, broker=self.owner)
                if span is not None:
                    span.failed(exc, retry_at)
                # Committed before the broker hears of it: dead in the log before the broker
                # forgets it; a retry may run in another process sharing this log, and its
                # outcome must not be overwritten by this one.
                await store.flush()
                if retry_at is None:
                    await self._settle(incoming.ack(), message, runner)
                else:
                    delay = max(0.0, (retry_at - self.lifecycle.now()).total_seconds())
                    await self._settle(incoming.retry(delay), message, runner)
                if stop is not None and not self.lifecycle.interrupt(stop):
                    raise stop from None
            except BaseException:
                if span is not None:
                    span.abandoned()
                with anyio.CancelScope(shield=True), anyio.move_on_after(1.0):
                    await self._settle(incoming.retry(0.0), message, runner)  # someone else's turn
                raise
            else:
                if span is not None:
                    span.succeeded()
                runner.record(Outcome(message.id, runner.name, "succeeded", datetime.now(UTC)))
                await store.flush()  # in the log before the ack: a redelivery finds it done
                await self._settle(incoming.ack(), message, runner)
        finally:
            self.handling.discard(incoming)
            runner.in_flight.discard(message.id)

    async def _settle(self, settling: Awaitable[None], message: Message[Any], runner: Runner) -> None:
        try:
            await settling
        except Exception as exc:
            log.warning("could not settle %s %s for %r with the broker (%r): it will come again",
                        message.name, message.id, runner.name, exc, extra=log_fields(message, runner.name))
