"""The email context: sends mail in the background (async subscribers: emit does not wait)."""

from __future__ import annotations

import anyio

from generated.freight import FreightBus
from generated.freight.models import (
    DocumentUploaded,
    EMAILSendBookingRequestAskedEmailCommand,
)
from generated.freight.subscribers.email import (
    on_document_uploaded,
    on_email_send_booking_request_asked_email_command,
)
from tidings.runtime import Message

from ._log import say


async def send_document(message: Message[DocumentUploaded]) -> None:
    """Mail the uploaded document to the shipment's parties (slow: two "seconds")."""
    await anyio.sleep(0.02)
    say("email", f"sent {message.data.file_name} by email", message)


async def send_booking_request(message: Message[EMAILSendBookingRequestAskedEmailCommand]) -> None:
    """The command from the talk: email the carrier a booking request."""
    await anyio.sleep(0.01)
    say("email", f"booking request sent to {message.data.carrier_email}", message)


def subscribe(bus: FreightBus) -> None:
    """Attach the email handlers to `bus`."""
    on_document_uploaded(bus, mode="async")(send_document)
    on_email_send_booking_request_asked_email_command(bus, mode="async")(send_booking_request)
