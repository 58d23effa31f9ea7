"""Traces in a test written with the `tidings_bus` plugin, as the testing guide shows: two
services on the transport double, the remote delivery a child of the emit's span."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
from opentelemetry.trace import SpanKind

from tests.otel.conftest import Telemetry
from tidings.runtime import CatalogSpec, EventBus, Message, MessageSpec
from tidings.testing import BusFactory

pytestmark = pytest.mark.anyio


class Placed(pydantic.BaseModel):
    order_id: str


def shop() -> CatalogSpec:
    return CatalogSpec("shop", {"orderPlaced": MessageSpec("orderPlaced", "event", Placed, distributed=True)})


def billing(bus: EventBus) -> None:
    def invoice(message: Message[Any]) -> None:
        pass

    bus.on("orderPlaced", invoice, mode="async", name="billing.invoice")


async def test_the_remote_delivery_continues_the_emit_trace(tidings_bus: BusFactory,
                                                            telemetry: Telemetry) -> None:
    catalog = shop()
    async with tidings_bus(catalog, transport=True) as sender, \
            tidings_bus(catalog, transport=True, subscribe=billing) as receiver:
        sent = await sender.publish("orderPlaced", {"order_id": "o-9"})
        await sender.settled()
        rows = await receiver.settled(expect=["orderPlaced"])
    assert [(r.subscriber, r.status) for r in rows] == [("billing.invoice", "succeeded")]
    [emit] = [s for s in telemetry.spans("send orderPlaced") if s.kind is SpanKind.PRODUCER
              and (s.attributes or {})["messaging.system"] == "tidings"]
    [delivery] = telemetry.spans("process orderPlaced")
    assert delivery.parent is not None and emit.context is not None
    assert delivery.parent.span_id == emit.context.span_id
    assert (delivery.attributes or {})["messaging.message.id"] == str(sent.id)
