"""The outbox relay: a persisted subscriber that publishes distributed messages to the broker."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from tidings.runtime._event import Message
from tidings.runtime._records import to_stored
from tidings.runtime._retry import PermanentError, RetryPolicy
from tidings.runtime._spec import CatalogSpec
from tidings.runtime.bus._subscribers import Subscriber, Subscribers
from tidings.runtime.emitter import Subscription
from tidings.runtime.stores._base import RELAY_PREFIX
from tidings.runtime.transports._base import Transport

log = logging.getLogger("tidings.bus")

RELAY_RETRY = RetryPolicy(max_attempts=2**31 - 1, initial_delay=0.2, max_delay=5.0, jitter=True)
"""How the outbox relay retries a publish the broker did not take: every few seconds, forever
(each failure logged at DEBUG). A `PermanentError` (`MessageTooLarge`) is dead at once instead."""
QUIET_FAILURES = 3
"""Failed publishes in a row that the relay keeps quiet (a broker restarting) before it warns."""
WARN_EVERY = 60.0
"""Seconds between two warnings of a relay whose publishes keep failing."""


class Relay:
    """Subscribed (persisted, async) to every distributed name, it publishes each message to the
    broker; its delivery row is the outbox entry (`succeeded` = relayed).

    While publishes keep failing (the broker is away), each try is logged at DEBUG; after
    `QUIET_FAILURES` failures in a row, a WARNING says so, once every `WARN_EVERY` seconds,
    and an INFO line says when publishing works again."""

    __slots__ = ("__name__", "__qualname__", "failing_since", "failures", "transport", "warned_at")

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.__name__ = self.__qualname__ = f"relay:{transport.kind}"
        self.failures = 0
        """Publishes failed in a row (a permanent error does not count: it is logged as dead)."""
        self.failing_since: datetime | None = None
        self.warned_at: float | None = None

    def __repr__(self) -> str:
        return f"<outbox relay to {self.transport!r}>"

    async def __call__(self, message: Message[Any]) -> None:
        """Publish `message`; returns once the broker took it (raises when it did not)."""
        try:
            await self.transport.publish(to_stored(message))
        except PermanentError:
            raise
        except Exception as exc:
            self.failed(exc)
            raise
        if self.failures:
            self.recovered()

    def failed(self, error: Exception) -> None:
        """Count a failed publish; warn when the relay has been failing a while."""
        if self.failures == 0:
            self.failing_since = datetime.now(UTC)
        self.failures += 1
        now = time.monotonic()
        if self.failures > QUIET_FAILURES and (
                self.warned_at is None or now - self.warned_at >= WARN_EVERY):
            self.warned_at = now
            since = self.failing_since or datetime.now(UTC)
            log.warning("outbox relay to %r: %d publishes failed in a row since %s; still retrying"
                        " every few seconds (the messages wait in the log): %r", self.transport,
                        self.failures, since.isoformat(timespec="seconds"), error)

    def recovered(self) -> None:
        """A publish went through: the failures in a row are over."""
        if self.warned_at is not None:
            log.info("outbox relay to %r is publishing again after %d failed publishes",
                     self.transport, self.failures)
        self.failures, self.failing_since, self.warned_at = 0, None, None


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
