"""`Runner`: runs one persisted subscriber's deliveries and records every outcome in the log
(succeeded, failed with its retry time, dead, or back to pending)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import anyio

from tidings.runtime._event import Message
from tidings.runtime._records import log_fields
from tidings.runtime._retry import RetryPolicy, decide
from tidings.runtime._spec import CatalogSpec
from tidings.runtime._telemetry import slot
from tidings.runtime.bus._lifecycle import Lifecycle
from tidings.runtime.emitter import Mode, call
from tidings.runtime.stores._base import Outcome, Store

MessageListener = Callable[[Message[Any]], object]
log = logging.getLogger("tidings.bus")

BROKER_LEASE = datetime(9999, 12, 31, tzinfo=UTC)
"""The lease of a delivery the broker holds (a remote subscriber's message in flight or waiting
for redelivery): no bus claims it; the broker delivers it again. `replay` resets it."""


class HandlerAborted(RuntimeError):
    """A handler ended with a `BaseException` that is not the bus's own cancellation (a
    `CancelledError` from a task someone else cancelled, `KeyboardInterrupt`, `SystemExit`, ...):
    recorded as a failed attempt like any error (its `__cause__` is the original). After the
    attempt is recorded, `KeyboardInterrupt` and `SystemExit` still stop the process: raised to
    the publisher by a sync subscriber; from a background one, the bus shuts down at once
    (without `shutdown_timeout`) and leaving `async with bus:` raises it."""


def as_failure(exc: BaseException) -> Exception | None:
    """What a BaseException out of a handler is: None for the bus's (or the caller's) own
    cancellation, which puts the delivery back; else a `HandlerAborted` to record as a failed
    attempt."""
    if isinstance(exc, anyio.get_cancelled_exc_class()) and anyio.current_effective_deadline() == -math.inf:
        return None
    failure = HandlerAborted(f"the handler raised {type(exc).__name__}: {exc!r}")
    failure.__cause__ = exc
    return failure


class Runner:
    """Runs one persisted subscriber (`name`) and records every outcome in `store`."""

    __slots__ = ("__wrapped__", "catalog", "halted", "in_flight", "lifecycle", "listener", "mode",
                 "name", "quiet", "retry", "store")

    def __init__(self, name: str, listener: MessageListener, mode: Mode, retry: RetryPolicy | None,
                 store: Store, catalog: CatalogSpec, lifecycle: Lifecycle, quiet: bool = False) -> None:
        self.name = name
        self.listener = listener
        self.__wrapped__ = listener
        self.mode = mode
        self.retry = retry
        self.store = store
        self.catalog = catalog
        self.lifecycle = lifecycle
        self.halted = False
        """A serial subscriber left a failed delivery for later: the rest of its queue waits too."""
        self.quiet = quiet  # failures logged at debug level (the outbox relay while the broker is down)
        self.in_flight: set[UUID] = set()
        """The ids of the messages whose delivery is running now (what a shutdown left running)."""

    def __repr__(self) -> str:
        return f"<subscriber {self.name!r} {self.listener!r}>"

    def __call__(self, message: Message[Any]) -> Any:
        """A delivery from `emit` (sync mode raises to the publisher)."""
        return self.run(message, self.mode == "sync")

    def background(self, message: Message[Any]) -> Any:
        """A queued delivery (async, serial, or claimed from the log)."""
        return self.run(message, False)

    def policy(self, name: str) -> RetryPolicy:
        """This subscriber's retry policy for message `name` (its own, else the catalog's)."""
        return self.retry if self.retry is not None else self.catalog.get(name).retry

    async def run(self, message: Message[Any], raise_errors: bool) -> None:
        """Run the listener on `message`, retrying in place when serial, and record the outcome."""
        store, lifecycle = self.store, self.lifecycle
        if (lifecycle.abandoning or self.halted) and not raise_errors:
            # Queued but not started when the shutdown timed out (or, for a serial subscriber,
            # behind a delivery left for later): leave it for the next start.
            self.record(Outcome(message.id, self.name, "pending", datetime.now(UTC), attempts_delta=-1))
            return
        self.in_flight.add(message.id)
        try:
            while True:
                span = None if (hooks := slot.hooks) is None else hooks.attempt(message, self.name, None)
                try:
                    try:
                        if (pending := call(self.listener, message)) is not None:
                            await pending
                    except (KeyboardInterrupt, SystemExit) as stop:
                        # Recorded (and committed) before it stops the process, so a poison message
                        # goes dead at max_attempts across restarts; the retry is the next start's.
                        if not raise_errors:
                            lifecycle.interrupting(stop)
                        failure = as_failure(stop)
                        assert failure is not None
                        retry_at = self.failed(message, failure, False)
                        if span is not None:
                            span.failed(failure, retry_at)
                        with anyio.CancelScope(shield=True), anyio.move_on_after(lifecycle.lease):
                            await store.flush()
                        # In a background task it goes to the bus, which stops and raises it where
                        # it was started: raised here, asyncio would let it out of the event loop,
                        # past every shutdown, and tear the bus down with its leases held.
                        if raise_errors or not lifecycle.interrupt(stop):
                            raise
                        return
                    except Exception:
                        raise
                    except BaseException as other:
                        failure = as_failure(other)
                        if failure is None:
                            raise
                        raise failure from other
                except Exception as exc:
                    hold = self.mode == "serial" and not raise_errors
                    retry_at = self.failed(message, exc, hold)
                    if span is not None:
                        span.failed(exc, retry_at)
                    if retry_at is not None and hold:
                        # Serial order: this subscriber takes nothing else until this one is done.
                        if await lifecycle.pause_until(retry_at):
                            self.halted = True
                            self.record(Outcome(message.id, self.name, "failed", datetime.now(UTC),
                                                 next_attempt_at=retry_at))
                            return
                        message = replace(message, attempt=message.attempt + 1)
                        self.record(Outcome(message.id, self.name, "running", datetime.now(UTC),
                                             owner=lifecycle.owner, lease_until=lifecycle.lease_until(),
                                             attempts_delta=1))
                        continue
                    if raise_errors:
                        raise
                    return
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException:
                    # Our own cancellation (the shutdown timed out, or the caller gave up): run it
                    # again later.
                    if span is not None:
                        span.abandoned()
                    self.record(Outcome(message.id, self.name, "pending", datetime.now(UTC)))
                    raise
                if span is not None:
                    span.succeeded()
                self.record(Outcome(message.id, self.name, "succeeded", datetime.now(UTC)))
                return
        finally:
            self.in_flight.discard(message.id)

    def record(self, outcome: Outcome) -> None:
        """Record `outcome` in the log; not after the bus stopped (a delivery the shutdown left
        running detached ends late: its row stays as it is, and runs again once the lease ends)."""
        if self.lifecycle.phase == "stopped":
            log.warning("subscriber %r finished %s after the bus stopped: not recorded; it runs"
                        " again once its lease ends", self.name, outcome.message_id)
            return
        self.store.record(outcome)

    def failed(self, message: Message[Any], exc: Exception, hold: bool, broker: str | None = None
               ) -> datetime | None:
        """Persist the retry decision on a failure: dead, or failed with the time of the retry,
        which it returns (`hold` keeps the delivery owned by this bus, for a serial subscriber
        retrying in place; `broker` leaves the retry to the broker, which owns the row meanwhile)."""
        now = self.lifecycle.now()
        decision = decide(self.policy(message.name), exc, message.attempt, now)
        if decision.retry_at is None:
            log.error("subscriber %r is dead on %s %s after attempt %d: %r", self.name, message.name,
                      message.id, message.attempt, exc, extra=log_fields(message, self.name))
            self.record(Outcome(message.id, self.name, "dead", now, error=decision.error))
            return None
        retry_at = decision.retry_at
        log.log(logging.DEBUG if self.quiet else logging.WARNING,
                "subscriber %r failed on %s %s (attempt %d, retry at %s): %r", self.name,
                message.name, message.id, message.attempt, retry_at.isoformat(), exc,
                extra=log_fields(message, self.name))
        if broker is not None:
            owner, lease_until = broker, BROKER_LEASE
        elif hold:
            owner, lease_until = self.lifecycle.owner, retry_at + timedelta(seconds=self.lifecycle.lease)
        else:
            owner, lease_until = None, None
        self.record(Outcome(message.id, self.name, "failed", now, error=decision.error,
                                  next_attempt_at=retry_at, owner=owner, lease_until=lease_until))
        return retry_at
