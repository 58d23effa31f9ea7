"""What every transport promises: publish a stored message to a broker, and consume a remote
subscriber's messages from it. The bus does the rest (outbox, log, retries, dead letters)."""

from __future__ import annotations

import re
import zlib
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import ClassVar, Self

from tidings.runtime._retry import PermanentError
from tidings.runtime.stores._base import StoredMessage


class TransportError(Exception):
    """The broker refused or could not take an operation (the outbox relay retries it)."""


class MessageTooLarge(TransportError, PermanentError):
    """The broker can never take this message: it is over the broker's size limit (`limit`
    bytes; the message is `size`, headers or attributes included). Retrying cannot help: the
    bus refuses it at emit (before storing it) when the limit is known, and the outbox relay's
    delivery goes `dead` at once when it is learned later (a `PermanentError`)."""

    def __init__(self, message: str, *, size: int, limit: int) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


@dataclass(frozen=True, slots=True)
class RemoteSubscription:
    """One remote subscriber, as a transport consumes for it.

    `subscriber` is the stable subscriber name (several processes under one name share the
    work); `names` are the (distributed) event names it takes; `serial` asks for one message in
    flight at a time, in stream order; `ack_wait` is how many seconds an unacknowledged message
    stays with this consumer before the broker delivers it again; `max_in_flight` caps the
    messages handed out and not yet settled.
    """

    subscriber: str
    names: tuple[str, ...]
    serial: bool
    ack_wait: float
    max_in_flight: int


class Incoming(ABC):
    """A message the broker delivered to a remote subscriber, to be settled exactly once."""

    message: StoredMessage
    """The message as the producer stored it (same id, payload, correlation and causation)."""
    attempt: int
    """How many times the broker has delivered it to this subscriber (1 the first time)."""

    @abstractmethod
    async def ack(self) -> None:
        """Done: the broker never delivers it to this subscriber again."""

    @abstractmethod
    async def retry(self, delay: float) -> None:
        """Deliver it again to this subscriber in about `delay` seconds."""

    async def progress(self) -> None:
        """Still working on it: postpone redelivery by another `ack_wait` (where supported)."""
        return None


Handle = Callable[[Incoming], Awaitable[None]]


class Transport(ABC):
    """A broker the events of a catalog cross: attach one to an `EventBus(transport=...)`.

    The bus owns the guarantees; a transport only moves bytes: `publish` returns once the
    broker has durably taken the message (or raises), and `consume` hands every delivered
    message to `handle` until cancelled, reconnecting by itself when the broker goes away.
    """

    kind: ClassVar[str]
    """Short name (`nats`, `sns-sqs`): the outbox relay's subscriber is `tidings.relay:<kind>`."""

    catalog: str = ""

    async def open(self, catalog: str) -> None:
        """Remember the catalog name (subjects and topics derive from it). Must not fail when
        the broker is down: `publish` and `consume` connect when they need to."""
        self.catalog = catalog

    async def declare(self, subscription: RemoteSubscription) -> object:
        """Create what `subscription` consumes from (durable consumer, queue, topic subscription)
        so that messages published from now on wait for it; the bus calls it when it starts.
        Brokers that keep every message for late consumers need nothing here."""
        return None

    @abstractmethod
    async def publish(self, message: StoredMessage) -> None:
        """Send `message` to the broker and return once the broker acknowledged it; raise
        (any Exception) when it could not. Publishing one message id twice must not deliver it
        twice to a subscriber (broker-side dedup) where the broker allows."""

    def check_size(self, message: StoredMessage) -> None:
        """Raise `MessageTooLarge` when the broker could never take `message` (it is over the
        broker's size limit, as last learned from the broker); return None when it could, or
        when the limit is not known yet. Cheap and synchronous: for a bus to call at emit,
        before the message is stored. Transports without a limit accept everything."""
        return None

    @abstractmethod
    async def consume(self, subscription: RemoteSubscription, handle: Handle) -> None:
        """Deliver the subscription's messages to `handle`, forever: at most
        `subscription.max_in_flight` unsettled at once (1 and in order when `serial`); a
        message not settled within `ack_wait` comes again. Reconnects on broker errors; returns
        only when cancelled."""

    async def close(self) -> None:
        """Disconnect (idempotent)."""
        return None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


def wire_name(text: str, limit: int = 64) -> str:
    """`text` as a broker-safe name (letters, digits, `-`, `_`): other characters become `_`,
    and a short checksum of the original is appended when anything had to change (so two
    subscriber names never map to one consumer or queue)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", text)
    if safe == text and len(safe) <= limit:
        return safe
    suffix = f"-{zlib.crc32(text.encode()):08x}"
    return safe[: limit - len(suffix)] + suffix
