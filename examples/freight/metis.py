"""The metis context: reads documents with AI, then publishes what it found.

Its messages are distributed (`metis: {transport: nats}` in the catalog): on a bus with a
transport both handlers take their messages from NATS, each on a durable consumer named after
the subscriber; without one they run in-process like every other subscriber.
"""

from __future__ import annotations

import anyio

from generated.freight import FreightBus
from generated.freight.models import (
    DocumentAnalyzed,
    DocumentAnalyzedField,
    DocumentUploaded,
    METISAnalyzeDocumentCommand,
)
from generated.freight.publishers.metis import emit_document_analyzed
from generated.freight.subscribers.metis import on_document_uploaded, on_metis_analyze_document_command
from tidings.runtime import Message, RetryPolicy

from ._log import say, via

READER = "metis:read-document"
"""The subscriber name of metis's document reader (on NATS: its durable consumer)."""
REREADER = "metis:reanalyze"
"""The subscriber name of metis's handler of `METIS_AnalyzeDocumentCommand`."""

FAST_CONFIDENCE = {"bill_of_lading": 0.97, "commercial_invoice": 0.71, "packing_list": 0.93}
"""How sure the fast model is, by document kind (the commercial invoices defeat it)."""
FIELDS = {
    "bill_of_lading": ("vessel", "CMA CGM MARCO POLO"),
    "commercial_invoice": ("total", "4250.00 EUR"),
    "packing_list": ("packages", "12"),
}
"""What metis finds in each kind of document."""


def analysis(document: DocumentUploaded, model: str) -> DocumentAnalyzed:
    """What the `model` ("fast" or "accurate") finds in `document`."""
    key, value = FIELDS.get(document.kind, ("kind", document.kind))
    confidence = 0.99 if model == "accurate" else FAST_CONFIDENCE.get(document.kind, 0.5)
    return DocumentAnalyzed(
        document_id=document.document_id,
        shipment_id=document.shipment_id,
        confidence=confidence,
        fields=[DocumentAnalyzedField(key=key, value=value, page=1)],
    )


def subscribe(bus: FreightBus) -> None:
    """Attach the metis handlers to `bus` (they publish on the same bus)."""
    read: dict[str, DocumentUploaded] = {}

    async def document_of(document_id: str) -> DocumentUploaded | None:
        """A document read before: remembered, or found in this bus's event log (a real metis
        would keep its documents in its own storage)."""
        if document_id not in read and bus.store is not None:
            for entry in await bus.store.log(name="documentUploaded", limit=100_000):
                uploaded = DocumentUploaded.model_validate_json(entry.message.payload)
                read.setdefault(uploaded.document_id, uploaded)
        return read.get(document_id)

    @on_document_uploaded(bus, mode="async", name=READER)
    async def read_document(message: Message[DocumentUploaded]) -> None:
        await anyio.sleep(0.01)
        read[message.data.document_id] = message.data
        found = analysis(message.data, "fast")
        say("metis", f"read {message.data.file_name} with the fast model", message, broker=via(bus, READER))
        await emit_document_analyzed(bus, found)
        say("metis", f"documentAnalyzed emitted: confidence {found.confidence:.2f}")

    @on_metis_analyze_document_command(
        bus, mode="async", name=REREADER, retry=RetryPolicy(max_attempts=3, initial_delay=0.2, jitter=False)
    )
    async def reanalyze(message: Message[METISAnalyzeDocumentCommand]) -> None:
        document = await document_of(message.data.document_id)
        if document is None:
            raise LookupError(f"document {message.data.document_id} was never read here")
        model = message.data.model or "fast"
        if model == "accurate" and message.attempt == 1:
            broker = via(bus, REREADER)
            again = f"{broker} delivers it again" if broker else "the bus retries it"
            say("metis", f"the accurate model is still loading; {again}", message, broker=broker)
            raise TimeoutError("accurate model: not loaded yet")
        await anyio.sleep(0.05)
        found = analysis(document, model)
        say("metis", f"read {document.file_name} again with the {model} model", message,
            broker=via(bus, REREADER))
        await emit_document_analyzed(bus, found)
        say("metis", f"documentAnalyzed emitted: confidence {found.confidence:.2f}")
