"""The worker of a bus with a store: it starts and stops the bus's background work, and its
loops claim due deliveries (crash recovery, retries, replays, rows set back to `pending` in
SQL), renew this bus's leases and wake on the store's signals."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID, uuid4

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup

from tidings.runtime._event import Message
from tidings.runtime._records import load_or_bury
from tidings.runtime._spec import CatalogSpec
from tidings.runtime._upcast import Upcasters
from tidings.runtime.bus._consumers import Consumers
from tidings.runtime.bus._deliveries import Deliveries
from tidings.runtime.bus._lifecycle import Lifecycle
from tidings.runtime.bus._relay import relay_subscription
from tidings.runtime.bus._runner import Runner
from tidings.runtime.bus._settled import settled
from tidings.runtime.bus._subscribers import Subscribers
from tidings.runtime.emitter import Dispatcher, Mode, Subscription, current_event
from tidings.runtime.stores._base import Claim, Delivery, Outcome, Store
from tidings.runtime.transports._base import Transport

log = logging.getLogger("tidings.bus")

CANCEL_GRACE = 1.0
"""Seconds the deliveries cancelled at the end of a shutdown get to unwind (record their
outcome), even when `shutdown_timeout` has already passed."""


class Worker:
    """Claims, renews, starts and shuts down for one bus; with a transport, it also owns the
    outbox relay and the remote subscribers' consumers."""

    def __init__(self, store: Store, catalog: CatalogSpec, dispatcher: Dispatcher, lifecycle: Lifecycle,
                 subscribers: Subscribers, transport: Transport | None, *, poll_interval: float,
                 shutdown_timeout: float, claim_batch: int, max_in_flight: int,
                 upcasters: Upcasters) -> None:
        self.store = store
        self.catalog = catalog
        self.upcasters = upcasters
        self.dispatcher = dispatcher
        self.lifecycle = lifecycle
        self.runners = subscribers.runners
        self.transport = transport
        self.consumers: Consumers | None = None
        """The remote subscribers' consumers (with a transport)."""
        self.relay: Subscription | None = None
        """The outbox relay's subscription (never unsubscribed), with a transport."""
        self.relay_names: frozenset[str] = frozenset()
        """The names the relay publishes (the catalog's distributed ones)."""
        if transport is not None:
            self.consumers = Consumers(transport, store, upcasters, dispatcher, lifecycle,
                                       self.runners, max_in_flight)
            self.relay, self.relay_names = relay_subscription(transport, catalog, subscribers)
        self.poll_interval = poll_interval
        self.shutdown_timeout = shutdown_timeout
        self.claim_batch = claim_batch
        self.max_in_flight = max_in_flight
        self._claim_wakeup: anyio.Event | None = None
        self._loops_done: list[anyio.Event] = []
        self._deliveries: Deliveries | None = None

    # -- start and stop ------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the loops in the dispatcher's task group and move deliveries to a detached
        one (`Deliveries`: a timed-out shutdown cancels them alone, and does not wait for one
        that ignores it); then the transport and its consumers."""
        outer = self.dispatcher.task_group
        assert outer is not None
        self.store.start(outer)
        self.lifecycle.begin(f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}", outer)
        for runner in self.runners.values():
            runner.halted = False
        loops = [self._claim_loop, self._renew_loop]
        if self.store.notifies:
            loops.append(self._signal_loop)
        self._loops_done = []
        for loop in loops:
            done = anyio.Event()
            self._loops_done.append(done)
            outer.start_soon(self._until_closing, loop, done)
        self._deliveries = Deliveries(self.lifecycle)
        self.dispatcher.task_group = await self._deliveries.open()
        if self.transport is not None and self.consumers is not None:
            await self.transport.open(self.catalog.name)
            await self.consumers.start(self.dispatcher.task_group)

    async def _until_closing(self, loop: Callable[[], Any], done: anyio.Event) -> None:
        try:
            await loop()
        finally:
            done.set()

    async def stop(self, failed: bool) -> None:
        """Shut down gracefully: no new work; queued and running deliveries get
        `shutdown_timeout` seconds (none when `failed`), then the rest is cancelled and goes
        back to `pending`; close the store and the transport."""
        lifecycle, dispatcher = self.lifecycle, self.dispatcher
        lifecycle.close()
        if self.consumers is not None:
            self.consumers.stop()  # no new messages from the broker; those under way finish
        with anyio.CancelScope(shield=True):
            # One deadline for the whole shutdown: what is queued behind a hung delivery is
            # released at once when it passes, not waited for again.
            deadline = anyio.current_time() + (0 if failed else self.shutdown_timeout)
            with anyio.move_on_after(0 if failed else self.shutdown_timeout):
                await dispatcher.wait_idle()
            lifecycle.abandon()
            dispatcher.task_group = lifecycle.task_group
            deliveries = self._deliveries
            assert deliveries is not None
            deliveries.cancel()  # the deliveries still running, if any
            if self.consumers is not None:
                self.consumers.abandon()
                self.consumers.group = None
            self._release_queued()
            with anyio.move_on_after(max(deadline - anyio.current_time(), CANCEL_GRACE)):
                await dispatcher.wait_idle()
                await deliveries.closed()
                for done in self._loops_done:
                    await done.wait()
            self._left_running(deliveries)
            try:
                await self.store.close()
            finally:
                lifecycle.end()
                if self.transport is not None:
                    await self.transport.close()
            await deliveries.join()  # at once, unless left running: a crashed delivery task

    def _release_queued(self) -> None:
        # Deliveries still queued when their workers were cancelled go back to `pending`.
        for sub, event in self.dispatcher.take_queued():
            runner = getattr(sub.listener, "__self__", sub.listener)
            if isinstance(runner, Runner) and isinstance(event, Message):
                self.store.record(Outcome(event.id, runner.name, "pending", datetime.now(UTC),
                                          attempts_delta=-1))

    def _left_running(self, deliveries: Deliveries) -> None:
        # Deliveries that ignored their cancellation keep running detached; the bus stops.
        if deliveries.done and not self.dispatcher.outstanding:
            return
        left = sorted(f"{name} on {message_id}" for name, runner in self.runners.items()
                      for message_id in runner.in_flight)
        log.error("shutdown: %d deliveries ignored their cancellation and keep running detached"
                  " from the stopped bus (%s); their rows stay `running` until the lease ends,"
                  " then a start runs them again", max(len(left), self.dispatcher.outstanding),
                  ", ".join(left) or "not named subscribers")
        deliveries.detach()
        self.dispatcher.outstanding = 0

    # -- the loops -----------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        lifecycle = self.lifecycle
        while lifecycle.running:
            claimed = 0
            if (lifecycle.taking_work and self.dispatcher.outstanding < self.max_in_flight
                    and self.live_runners()):
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
                    tg.start_soon(self._first, tg, wakeup.wait)
                    tg.start_soon(self._first, tg, partial(lifecycle.wait_closing, self.poll_interval))
        self._claim_wakeup = None

    async def rerun(self, keys: list[tuple[UUID, str]], wait: bool, timeout: float | None,
                    progress: Callable[[int, int], object] | None) -> list[Delivery]:
        """Deliveries `keys` were just reset to `pending`: claim them now; with `wait`, return
        their rows once settled (or `timeout` passed), else at once."""
        self.wake_claims()
        if wait:
            return await settled(self.store, keys, timeout=timeout, progress=progress)
        rows = {(r.message_id, r.subscriber): r for r in await self.store.deliveries(keys)}
        return [rows[k] for k in keys if k in rows]

    @staticmethod
    async def _first(tg: TaskGroup, wait: Callable[[], Awaitable[object]]) -> None:
        await wait()
        tg.cancel_scope.cancel()

    def wake_claims(self) -> None:
        """Claim now rather than at the next poll (rows were just reset to `pending`)."""
        if self._claim_wakeup is not None:
            self._claim_wakeup.set()

    async def _renew_loop(self) -> None:
        lifecycle = self.lifecycle
        while lifecycle.running:
            if await lifecycle.wait_closing(lifecycle.lease / 3):
                return
            try:
                await self.store.renew(lifecycle.owner, lifecycle.lease_until())
            except Exception as exc:
                log.warning("renewing leases failed: %r", exc)
            if self.consumers is not None:
                await self.consumers.progress()

    async def _signal_loop(self) -> None:
        while self.lifecycle.running:
            if await self.store.wait_signal(min(self.poll_interval, 0.5)):
                self.wake_claims()

    async def claim_due(self) -> int:
        """Claim the due deliveries of the live subscribers now and queue them; how many."""
        now = self.lifecycle.now()
        claims = await self.store.claim(
            self.lifecycle.owner, list(self.live_runners()), now,
            now + timedelta(seconds=self.lifecycle.lease),
            min(self.claim_batch, self.max_in_flight - self.dispatcher.outstanding),
        )
        for claim in claims:
            self._dispatch(claim)
        return len(claims)

    def live_runners(self) -> dict[str, Runner]:
        """The persisted subscribers still subscribed (`off` and `clear_listeners` end them)."""
        live = {id(sub.listener) for subs in self.dispatcher.listeners.values() for sub in subs
                if sub.active}
        remote = self.consumers.names if self.consumers is not None else {}
        if self.relay is not None:
            live.add(id(self.relay.listener))
        return {name: r for name, r in self.runners.items() if id(r) in live or name in remote}

    def _dispatch(self, claim: Claim) -> None:
        runner = self.live_runners().get(claim.subscriber)
        stored = claim.message
        if runner is None or self.dispatcher.task_group is None or not self.lifecycle.taking_work:
            self.store.record(Outcome(stored.id, claim.subscriber, "pending", datetime.now(UTC),
                                      attempts_delta=-1))
            return
        message = load_or_bury(self.store, self.upcasters, stored, claim.subscriber, claim.attempt, "stored")
        if message is None:
            return
        mode: Mode = "serial" if runner.mode == "serial" else "async"
        token = current_event.set(message)  # the delivery runs in a copy of this context
        try:
            self.dispatcher.enqueue(
                Subscription(runner.background, mode, self.dispatcher.queue_for(runner, mode)), message)
        finally:
            current_event.reset(token)
