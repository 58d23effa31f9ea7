"""The metis context: reads documents with AI, then publishes what it found."""

from __future__ import annotations

import anyio

from generated.freight import FreightBus
from generated.freight.models import DocumentAnalyzed, DocumentAnalyzedField, DocumentUploaded
from generated.freight.publishers.metis import emit_document_analyzed
from generated.freight.subscribers.metis import on_document_uploaded
from tidings.runtime import Message

from ._log import say


def subscribe(bus: FreightBus) -> None:
    """Attach the metis handler to `bus` (it publishes on the same bus)."""

    @on_document_uploaded(bus, mode="async", name="metis:read-document")
    async def read_document(message: Message[DocumentUploaded]) -> None:
        await anyio.sleep(0.01)
        say("metis", f"read {message.data.file_name}", message)
        found = DocumentAnalyzed(
            document_id=message.data.document_id,
            shipment_id=message.data.shipment_id,
            confidence=0.97,
            fields=[DocumentAnalyzedField(key="vessel", value="CMA CGM MARCO POLO", page=1)],
        )
        await emit_document_analyzed(bus, found)
