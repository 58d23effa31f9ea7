"""The tasks context: keeps the operators' task lists (sync subscribers: emit waits for them)."""

from __future__ import annotations

from generated.freight import FreightBus
from generated.freight.models import DocumentUploaded, ShipmentCreated
from generated.freight.subscribers.tasks import on_document_uploaded, on_shipment_created
from tidings.runtime import Message

from ._log import say


def open_tasks(message: Message[ShipmentCreated]) -> None:
    """A new shipment gets its checklist."""
    say("tasks", f"opened tasks for {message.data.reference}", message)


def mark_upload_done(message: Message[DocumentUploaded]) -> None:
    """The upload task is done as soon as the document is stored."""
    say("tasks", f"upload task done: {message.data.file_name}", message)


def subscribe(bus: FreightBus) -> None:
    """Attach the tasks handlers to `bus`."""
    on_shipment_created(bus, mode="sync")(open_tasks)
    # remote=False: in core's process, emit waits for it even when documentUploaded also crosses
    # the wire to metis (a sync subscriber cannot take it from a broker).
    on_document_uploaded(bus, mode="sync", remote=False)(mark_upload_done)
