"""The core context: creates shipments and stores documents, and hears back from the others."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from uuid import uuid4

from generated.freight import FreightBus
from generated.freight.models import (
    DocumentAnalyzed,
    DocumentUploaded,
    EMAILSendBookingRequestAskedEmailCommand,
    Leg,
    METISAnalyzeDocumentCommand,
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
    emit_metis_analyze_document_command,
    emit_quote_accepted,
    emit_resync_tracking,
    emit_shipment_created,
)
from generated.freight.subscribers.core import on_document_analyzed, on_tracking_updated
from tidings.runtime import Message

from ._log import say, via

CONFIDENT = 0.9
"""Below this confidence core asks metis to read the document again with its accurate model."""
READER = "core:note-analysis"
"""The subscriber name of core's reader of metis's analyses (on NATS: its durable consumer)."""


class Documents:
    """The documents this core process stored, and those metis has read with enough confidence."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        """File name of every document uploaded here, by document id."""
        self.read: set[str] = set()
        """The documents of `files` analysed with at least `CONFIDENT` confidence."""

    def all_read(self) -> bool:
        """True once every uploaded document has an analysis with enough confidence."""
        return self.files.keys() <= self.read


documents = Documents()
"""This process's documents (one core per process)."""


async def file_name_of(bus: FreightBus, document_id: str) -> str:
    """The file name of a document uploaded by this process, or found in its event log (a real
    core would keep its documents in a table of its own)."""
    if document_id in documents.files:
        return documents.files[document_id]
    if bus.store is not None:
        for entry in await bus.store.log(name="documentUploaded", limit=100_000):
            uploaded = DocumentUploaded.model_validate_json(entry.message.payload)
            if uploaded.document_id == document_id:
                return uploaded.file_name
    return f"document {document_id} (not uploaded here)"


def subscribe(bus: FreightBus) -> None:
    """Attach the core handlers to `bus`. The analyses come from metis: in-process when metis runs
    here, from NATS on a bus with a transport (`remote` is the default for a distributed event)."""

    @on_document_analyzed(bus, mode="async", name=READER)
    async def note_analysis(message: Message[DocumentAnalyzed]) -> None:
        """Store what metis found; below `CONFIDENT`, ask metis for an accurate read."""
        found = message.data
        fields = ", ".join(f"{f.key}={f.value}" for f in found.fields)
        file_name = await file_name_of(bus, found.document_id)
        say("core", f"stored metis fields: {fields} from {file_name} (confidence {found.confidence:.2f})",
            message, broker=via(bus, READER))
        if found.document_id not in documents.files:
            return  # an earlier process's document: nothing to wait for
        if found.confidence >= CONFIDENT:
            documents.read.add(found.document_id)
        else:
            await emit_metis_analyze_document_command(
                bus, METISAnalyzeDocumentCommand(document_id=found.document_id, model="accurate")
            )
            say("core", f"confidence too low: asked metis to read {file_name} again (accurate model)")

    @on_tracking_updated(bus, name="core:note-milestone")
    def note_milestone(message: Message[TrackingUpdated]) -> None:
        """Show the new milestone on the shipment page."""
        say("core", f"milestone {message.data.milestone}", message)


async def create_shipment(bus: FreightBus) -> str:
    """The resolver of the talk: create the shipment, emit, answer at once."""
    shipment_id = str(uuid4())
    shipper = Party(party_id=str(uuid4()), name="Maison Dupont", email="ops@dupont.example")
    consignee = Party(party_id=str(uuid4()), name="Shanghai Imports Ltd")
    await emit_shipment_created(
        bus,
        ShipmentCreated(
            shipment_id=shipment_id,
            reference="SH-004211",
            shipper=shipper,
            consignee=consignee,
            legs=[Leg(origin="FRLEH", destination="CNSHA", mode="sea")],
            incoterm="FOB",
            created_at=datetime.now(UTC).isoformat(),
        ),
    )
    say("core", "shipmentCreated emitted; the resolver answers now")
    return shipment_id


async def upload_document(
    bus: FreightBus,
    shipment_id: str,
    file_name: str = "BL-FRLEH-CNSHA.pdf",
    kind: Literal["bill_of_lading", "commercial_invoice", "packing_list"] = "bill_of_lading",
) -> str:
    """Store an uploaded document and say so; returns its document id."""
    document_id = str(uuid4())
    documents.files[document_id] = file_name
    await emit_document_uploaded(
        bus,
        DocumentUploaded(
            document_id=document_id,
            shipment_id=shipment_id,
            kind=kind,
            file_name=file_name,
            size_bytes=183_204,
            uploaded_at=datetime.now(UTC).isoformat(),
        ),
    )
    where = "over NATS" if bus.transport is not None else "in background"
    say("core", f"documentUploaded {file_name} emitted (tasks done already; email and metis {where})")
    return document_id


async def book_and_sell(bus: FreightBus, shipment_id: str) -> None:
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
            quote_id=str(uuid4()),
            shipment_id=shipment_id,
            total=Money(amount="4250.00", currency="EUR"),
            accepted_at=datetime.now(UTC).isoformat(),
        ),
    )
