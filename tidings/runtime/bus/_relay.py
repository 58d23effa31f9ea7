"""The outbox relay: a persisted subscriber that publishes distributed messages to the broker."""

from __future__ import annotations

from typing import Any

from tidings.runtime._event import Message
from tidings.runtime._records import to_stored
from tidings.runtime._retry import RetryPolicy
from tidings.runtime._spec import CatalogSpec
from tidings.runtime.bus._subscribers import Subscriber, Subscribers
from tidings.runtime.emitter import Subscription
from tidings.runtime.stores._base import RELAY_PREFIX
from tidings.runtime.transports._base import Transport

RELAY_RETRY = RetryPolicy(max_attempts=2**31 - 1, initial_delay=0.2, max_delay=5.0, jitter=True)
"""How the outbox relay retries a publish the broker did not take: every few seconds, forever."""


class Relay:
    """Subscribed (persisted, async) to every distributed name, it publishes each message to the
    broker; its delivery row is the outbox entry (`succeeded` = relayed)."""

    __slots__ = ("__name__", "__qualname__", "transport")

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.__name__ = self.__qualname__ = f"relay:{transport.kind}"

    def __repr__(self) -> str:
        return f"<outbox relay to {self.transport!r}>"

    async def __call__(self, message: Message[Any]) -> None:
        """Publish `message`; returns once the broker took it (raises when it did not)."""
        await self.transport.publish(to_stored(message))


def relay_subscription(transport: Transport, catalog: CatalogSpec, subscribers: Subscribers
                       ) -> tuple[Subscription | None, frozenset[str]]:
    """The outbox relay of a bus with `transport`, registered as subscriber
    `tidings.relay:<kind>` of every distributed name, and those names (None if there is none).
    It is no listener: off/clear_listeners never reach it, listener_count skips it."""
    distributed = tuple(n for n, spec in catalog.messages.items() if spec.distributed)
    if not distributed:
        return None, frozenset()
    relay = Subscriber(f"{RELAY_PREFIX}{transport.kind}", distributed, Relay(transport), "async",
                       RELAY_RETRY)
    runner = subscribers.runner(relay, quiet=True)
    subscribers.register(relay)
    return Subscription(runner, "async", None), frozenset(distributed)
