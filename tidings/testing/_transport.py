"""A transport double: the runtime's `Transport` interface on an in-memory broker, so a
service's remote (NATS, SNS/SQS) subscribers run in a test without a broker."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import anyio
import anyio.abc

from tidings.runtime import SYSTEM_CLOCK, Clock, Transport
from tidings.runtime.stores import StoredMessage
from tidings.runtime.transports import Handle, Incoming, RemoteSubscription, from_headers, to_headers


@dataclass
class _Queue:
    # One durable consumer (a subscriber name): what waits for it and what it has in hand.
    names: set[str]
    ready: deque[tuple[StoredMessage, int]] = field(default_factory=deque)
    seen: set[object] = field(default_factory=set)
    in_hand: int = 0
    scheduled: int = 0
    wakeup: anyio.Event = field(default_factory=anyio.Event)

    def wake(self) -> None:
        self.wakeup.set()
        self.wakeup = anyio.Event()


class MemoryBroker:
    """What several `MemoryTransport`s share, as processes share a NATS server: one durable
    queue per subscriber name (processes under one name share its messages), made by
    `declare` or the first `consume`; a message published to a name reaches every queue
    taking it once (its id deduplicates a re-send). Messages cross as the real transports
    send them (headers and JSON body), so what arrives is what the wire would carry.
    Redelivery delays (`retry`, `ack_wait`) run on `clock`."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self.clock = clock
        self.published: list[StoredMessage] = []
        """Every message the broker took, in order (re-sends included)."""
        self.queues: dict[str, _Queue] = {}

    def queue(self, subscription: RemoteSubscription) -> _Queue:
        """The queue of `subscription`'s subscriber (made on first use)."""
        known = self.queues.get(subscription.subscriber)
        if known is None:
            known = self.queues[subscription.subscriber] = _Queue(set(subscription.names))
        known.names.update(subscription.names)
        return known

    def publish(self, message: StoredMessage) -> None:
        """Take `message`: queue it for every subscriber of its name that has not had it."""
        self.published.append(message)
        wire = from_headers(to_headers(message), message.payload.encode())
        for queue in self.queues.values():
            if wire.name in queue.names and wire.id not in queue.seen:
                queue.seen.add(wire.id)
                queue.ready.append((wire, 1))
                queue.wake()

    @property
    def idle(self) -> bool:
        """True when no message waits, is in a consumer's hand, or waits to be redelivered."""
        return all(not q.ready and not q.in_hand and not q.scheduled for q in self.queues.values())

    def pending(self) -> list[str]:
        """What is not done yet, one line per queue that has work (for timeout errors)."""
        return [f"broker queue {name!r}: {len(q.ready)} waiting, {q.in_hand} in hand,"
                f" {q.scheduled} to be redelivered"
                for name, q in self.queues.items() if q.ready or q.in_hand or q.scheduled]


class _Incoming(Incoming):
    def __init__(self, broker: MemoryBroker, queue: _Queue, message: StoredMessage, attempt: int,
                 group: anyio.abc.TaskGroup) -> None:
        self.message, self.attempt = message, attempt
        self.broker, self.queue, self.group = broker, queue, group
        self.settled = False
        self.extended = False

    def _settle(self) -> bool:
        if self.settled:
            return False
        self.settled = True
        self.queue.in_hand -= 1
        self.queue.wake()
        return True

    async def ack(self) -> None:
        self._settle()

    async def progress(self) -> None:
        self.extended = True

    async def retry(self, delay: float) -> None:
        if self._settle():
            self.queue.scheduled += 1
            self.group.start_soon(self._redeliver, delay)

    async def _redeliver(self, delay: float) -> None:
        try:
            await self.broker.clock.sleep(delay)
            self.queue.ready.append((self.message, self.attempt + 1))
        finally:
            self.queue.scheduled -= 1
            self.queue.wake()


class MemoryTransport(Transport):
    """A `Transport` on a `MemoryBroker` (its own unless given a shared one): attach one per
    bus, `EventBus(..., transport=MemoryTransport(broker))`, and the buses exchange their
    distributed messages as over NATS. It keeps the interface's promises: at most
    `max_in_flight` messages in hand per consumer (one, in order, when `serial`), a retried
    message comes again after its delay, a message left unsettled for `ack_wait` (real)
    seconds without `progress` comes again."""

    kind = "memory"

    def __init__(self, broker: MemoryBroker | None = None) -> None:
        self.broker = broker if broker is not None else MemoryBroker()

    async def declare(self, subscription: RemoteSubscription) -> object:
        return self.broker.queue(subscription)

    async def publish(self, message: StoredMessage) -> None:
        await anyio.lowlevel.checkpoint()
        self.broker.publish(message)

    async def consume(self, subscription: RemoteSubscription, handle: Handle) -> None:
        queue = self.broker.queue(subscription)
        limit = 1 if subscription.serial else max(1, subscription.max_in_flight)
        async with anyio.create_task_group() as group:
            while True:
                while queue.ready and queue.in_hand < limit:
                    message, attempt = queue.ready.popleft()
                    queue.in_hand += 1
                    group.start_soon(self._deliver, handle, _Incoming(
                        self.broker, queue, message, attempt, group), subscription.ack_wait)
                await queue.wakeup.wait()

    async def _deliver(self, handle: Handle, incoming: _Incoming, ack_wait: float) -> None:
        async with anyio.create_task_group() as watch:
            watch.start_soon(self._expire, incoming, ack_wait)
            try:
                await handle(incoming)
            finally:
                watch.cancel_scope.cancel()

    async def _expire(self, incoming: _Incoming, ack_wait: float) -> None:
        # Real time, like a broker's: a stuck consumer is not a matter of the test's clock.
        await anyio.sleep(ack_wait)
        while incoming.extended:
            incoming.extended = False
            await anyio.sleep(ack_wait)
        if incoming._settle():  # not settled in time: the broker hands it out again
            incoming.queue.ready.append((incoming.message, incoming.attempt + 1))
            incoming.queue.wake()
