"""The application the console tests replay through: one event, one subscriber that fails while
the file named by CONSOLE_TEST_BROKEN exists (so a delivery goes dead, and a replay succeeds)."""

from __future__ import annotations

import os
from pathlib import Path

import pydantic

from tidings.runtime import CatalogSpec, EventBus, Message, MessageSpec, RetryPolicy
from tidings.runtime.stores import open_store

FAST = RetryPolicy(max_attempts=2, initial_delay=0.01, max_delay=0.02)


class Shipment(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(populate_by_name=True)
    shipment_id: int = pydantic.Field(alias="shipmentId")
    note: str = ""


CATALOG = CatalogSpec("consoletest", {
    "shipmentCreated": MessageSpec("shipmentCreated", "event", Shipment, retry=FAST),
    "shipmentBooked": MessageSpec("shipmentBooked", "event", Shipment, retry=FAST),
})


class CarrierDown(Exception):
    """What the broken carrier raises."""


async def book(message: Message[Shipment]) -> None:
    """Book the shipment with the carrier; fails while the carrier is broken."""
    broken = os.environ.get("CONSOLE_TEST_BROKEN")
    if broken and Path(broken).exists():
        raise CarrierDown(f"carrier refused shipment {message.data.shipment_id}")


async def audit(message: Message[Shipment]) -> None:
    """Always succeeds."""


def make_bus() -> EventBus:
    """The test app's bus on the log named by CONSOLE_TEST_DB."""
    bus = EventBus(CATALOG, store=open_store(os.environ["CONSOLE_TEST_DB"]), poll_interval=0.05)
    bus.on("shipmentCreated", book, name="carrier", mode="async")
    bus.on(["shipmentCreated", "shipmentBooked"], audit, name="audit", mode="async")
    return bus
