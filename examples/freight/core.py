"""The core context: creates shipments and stores documents, and hears back from the others."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from generated.freight import FreightBus
from generated.freight.models import (
    DocumentAnalyzed,
    DocumentUploaded,
    EMAILSendBookingRequestAskedEmailCommand,
    Leg,
    Money,
    Party,
    QuoteAccepted,
    ResyncTracking,
    ShipmentCreated,
    TrackingUpdated,
)
from generated.freight.publishers.core import (
    emit_document_uploaded,
    emit_email_send_booking_request_asked_email_command,
    emit_quote_accepted,
    emit_resync_tracking,
    emit_shipment_created,
)
from generated.freight.subscribers.core import on_document_analyzed, on_tracking_updated
from tidings.runtime import Message

from ._log import say


def note_analysis(message: Message[DocumentAnalyzed]) -> None:
    """Store what metis found."""
    fields = ", ".join(f"{f.key}={f.value}" for f in message.data.fields)
    say("core", f"stored metis fields: {fields}", message)


def note_milestone(message: Message[TrackingUpdated]) -> None:
    """Show the new milestone on the shipment page."""
    say("core", f"milestone {message.data.milestone}", message)


def subscribe(bus: FreightBus) -> None:
    """Attach the core handlers to `bus`."""
    on_document_analyzed(bus, mode="async")(note_analysis)
    on_tracking_updated(bus)(note_milestone)


async def create_shipment(bus: FreightBus) -> UUID:
    """The resolver of the talk: create the shipment, emit, answer at once."""
    shipment_id = uuid4()
    shipper = Party(party_id=uuid4(), name="Maison Dupont", email="ops@dupont.example")
    consignee = Party(party_id=uuid4(), name="Shanghai Imports Ltd")
    await emit_shipment_created(
        bus,
        ShipmentCreated(
            shipment_id=shipment_id,
            reference="SH-004211",
            shipper=shipper,
            consignee=consignee,
            legs=[Leg(origin="FRLEH", destination="CNSHA", mode="sea")],
            incoterm="FOB",
            created_at=datetime.now(UTC),
        ),
    )
    say("core", "shipmentCreated emitted; the resolver answers now")
    return shipment_id


async def upload_document(bus: FreightBus, shipment_id: UUID) -> None:
    """Store an uploaded bill of lading and say so."""
    await emit_document_uploaded(
        bus,
        DocumentUploaded(
            document_id=uuid4(),
            shipment_id=shipment_id,
            kind="bill_of_lading",
            file_name="BL-FRLEH-CNSHA.pdf",
            size_bytes=183_204,
            uploaded_at=datetime.now(UTC),
        ),
    )
    say("core", "documentUploaded emitted (tasks done already; email and metis in background)")


async def book_and_sell(bus: FreightBus, shipment_id: UUID) -> None:
    """Commands and a second CRM update: a booking request, a manual resync, a won quote."""
    await emit_email_send_booking_request_asked_email_command(
        bus,
        EMAILSendBookingRequestAskedEmailCommand(
            shipment_id=shipment_id, carrier_email="booking@carrier.example"
        ),
    )
    await emit_resync_tracking(bus, ResyncTracking(shipment_id=shipment_id))
    await emit_quote_accepted(
        bus,
        QuoteAccepted(
            quote_id=uuid4(),
            shipment_id=shipment_id,
            total=Money(amount="4250.00", currency="EUR"),
            accepted_at=datetime.now(UTC),
        ),
    )
