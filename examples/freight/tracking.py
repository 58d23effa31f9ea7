"""The tracking context: handles the manual `resyncTracking` command and reports milestones."""

from __future__ import annotations

from datetime import UTC, datetime

from generated.freight import FreightBus
from generated.freight.models import ResyncTracking, TrackingUpdated
from generated.freight.publishers.tracking import emit_tracking_updated
from generated.freight.subscribers.tracking import on_resync_tracking
from tidings.runtime import Message

from ._log import say


def subscribe(bus: FreightBus) -> None:
    """Attach the tracking command handler to `bus`."""

    @on_resync_tracking(bus, name="tracking:resync")
    async def resync(message: Message[ResyncTracking]) -> None:
        say("tracking", "fetched the carrier's tracking again", message)
        await emit_tracking_updated(
            bus,
            TrackingUpdated(
                shipment_id=message.data.shipment_id, milestone="loaded", at=datetime.now(UTC).isoformat()
            ),
        )
