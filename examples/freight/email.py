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
from tidings.runtime import Message, RetryPolicy

from ._log import say


async def send_document(message: Message[DocumentUploaded]) -> None:
    """Mail the uploaded document to the shipment's parties; the mail server times out once."""
    await anyio.sleep(0.02)
    if message.attempt == 1:
        say("email", "mail server timed out; the bus will retry", message)
        raise TimeoutError("smtp.example: timed out")
    say("email", f"sent {message.data.file_name} by email", message)


async def send_booking_request(message: Message[EMAILSendBookingRequestAskedEmailCommand]) -> None:
    """The command from the talk: email the carrier a booking request."""
    await anyio.sleep(0.01)
    say("email", f"booking request sent to {message.data.carrier_email}", message)


def subscribe(bus: FreightBus) -> None:
    """Attach the email handlers to `bus`."""
    quick_retry = RetryPolicy(max_attempts=3, initial_delay=0.05, jitter=False)
    # remote=False: email runs in core's process and takes core's own emits, even on a bus whose
    # transport carries documentUploaded to metis.
    on_document_uploaded(bus, mode="async", retry=quick_retry, remote=False)(send_document)
    on_email_send_booking_request_asked_email_command(bus, mode="async")(send_booking_request)
