"""One printer for the example, so every line says which context did what."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tidings.runtime import EventBus, Message
from tidings.runtime.stores import LogEntry


def short(message_id: UUID) -> str:
    """The last 12 hex digits of a message id (UUIDv7 ids start with their timestamp, so ids of
    one run share their first digits; the tail tells them apart and is found in the full id)."""
    return str(message_id)[-12:]


def via(bus: EventBus, subscriber: str) -> str | None:
    """The broker `subscriber` takes its messages from (its transport's kind in capitals, e.g.
    NATS), None if it takes them in-process."""
    found = bus.subscribers.get(subscriber)
    if found is None or not found.remote or bus.transport is None:
        return None
    return bus.transport.kind.upper()


def say(context: str, text: str, message: Message[Any] | None = None, *, broker: str | None = None) -> None:
    """Print `text` for `context`; with `message`, its short id, its cause (`<-`), its thread
    (correlation id) when it has a cause, its attempt, and the broker it came through."""
    where = f"[{context:>10}]"
    if message is None:
        print(f"{where} {text}", flush=True)
        return
    about = f"msg {short(message.id)}"
    if message.causation_id is not None:
        about += f" <- {short(message.causation_id)}"
        if message.correlation_id is not None:
            about += f", thread {short(message.correlation_id)}"
    about += f", attempt {message.attempt}"
    if broker is not None:
        about += f", via {broker}"
    print(f"{where} {text}  ({about})", flush=True)


def deliveries(entry: LogEntry) -> str:
    """`entry`'s deliveries as `subscriber=status/attempts`, short names (the outbox relay of a
    transport shows as `outbox->nats`)."""
    labels = []
    for delivery in entry.deliveries:
        if delivery.subscriber.startswith("tidings.relay:"):
            who = "outbox->" + delivery.subscriber.split(":", 1)[1]
        else:
            who = delivery.subscriber.rsplit(":", 1)[-1]
        labels.append(f"{who}={delivery.status}/{delivery.attempts}")
    return ", ".join(labels)
