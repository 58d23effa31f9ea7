"""EventBus: catalog-checked names, validated payloads, typed messages, correlation and causation."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import anyio
import pydantic
import pytest

from tidings.runtime import CatalogSpec, EventBus, Message, MessageSpec

pytestmark = pytest.mark.anyio


class ShipmentCreated(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(populate_by_name=True)
    shipment_id: UUID = pydantic.Field(alias="shipmentId")


class EmailAsked(pydantic.BaseModel):
    shipment_id: UUID = pydantic.Field(alias="shipmentId")


CATALOG = CatalogSpec(
    "freight",
    {
        "shipmentCreated": MessageSpec("shipmentCreated", "event", ShipmentCreated, version=2),
        "EMAIL_Ask": MessageSpec("EMAIL_Ask", "command", EmailAsked, handler="email"),
    },
)
SHIPMENT = "0b7e1c1e-9d5b-4c4a-8a53-0f8f2c1f7a10"


async def test_dict_payload_is_validated_into_the_model() -> None:
    bus = EventBus(CATALOG)
    got: list[Message[Any]] = []
    bus.on("shipmentCreated", got.append)
    message = await bus.publish("shipmentCreated", {"shipmentId": SHIPMENT}, producer="core")
    assert got == [message]
    assert isinstance(message.data, ShipmentCreated)
    assert message.data.shipment_id == UUID(SHIPMENT)
    assert message.version == 2 and message.producer == "core" and message.attempt == 1
    assert message.correlation_id == message.id and message.causation_id is None


async def test_model_instance_is_passed_through() -> None:
    bus = EventBus(CATALOG)
    payload = ShipmentCreated(shipment_id=UUID(SHIPMENT))
    got: list[Message[Any]] = []
    bus.on("shipmentCreated", got.append)
    await bus.emit("shipmentCreated", payload)
    assert got[0].data is payload


async def test_bad_payload_is_rejected_before_any_listener_runs() -> None:
    bus = EventBus(CATALOG)
    called: list[object] = []
    bus.on("shipmentCreated", called.append)
    with pytest.raises(pydantic.ValidationError, match="shipmentId"):
        await bus.emit("shipmentCreated", {"shipmentId": "not-a-uuid"})
    assert called == []


async def test_unknown_names_are_rejected_everywhere_with_the_known_names() -> None:
    bus = EventBus(CATALOG)
    with pytest.raises(KeyError, match=r"shipmentCreatd.*known names: EMAIL_Ask, shipmentCreated"):
        await bus.emit("shipmentCreatd", {})
    with pytest.raises(KeyError, match="not declared"):
        bus.on("shipmentCreatd", print)
    with pytest.raises(KeyError, match="not declared"):
        bus.once("nope")
    with pytest.raises(KeyError, match="not declared"):
        bus.events(["shipmentCreated", "nope"])
    with pytest.raises(TypeError):
        await bus.emit(42, {})  # type: ignore[arg-type]


async def test_messages_emitted_by_handlers_carry_correlation_and_causation() -> None:
    bus = EventBus(CATALOG)
    seen: dict[str, Message[Any]] = {}

    async def ask_email(message: Message[ShipmentCreated]) -> None:
        seen["created"] = message
        await anyio.sleep(0)
        await bus.emit("EMAIL_Ask", {"shipmentId": str(message.data.shipment_id)})

    def send(message: Message[EmailAsked]) -> None:
        seen["asked"] = message

    async with bus:
        bus.on("shipmentCreated", ask_email, mode="async")
        bus.on("EMAIL_Ask", send)
        first = await bus.publish("shipmentCreated", {"shipmentId": SHIPMENT})
    assert seen["created"].id == first.id
    assert seen["asked"].causation_id == first.id
    assert seen["asked"].correlation_id == first.correlation_id == first.id
    outside = await bus.publish("EMAIL_Ask", {"shipmentId": SHIPMENT})
    assert outside.causation_id is None and outside.correlation_id == outside.id


async def test_subscriber_names_are_stable_and_unique() -> None:
    bus = EventBus(CATALOG)

    def handler(message: Message[Any]) -> None:
        pass

    def other(message: Message[Any]) -> None:
        pass

    bus.on("shipmentCreated", handler)
    assert list(bus.subscribers) == [f"{__name__}:{handler.__qualname__}"]
    bus.on("EMAIL_Ask", handler, name="email-sender", mode="serial")
    assert bus.subscribers["email-sender"].mode == "serial"
    with pytest.raises(ValueError, match="already used"):
        bus.on("shipmentCreated", other, name="email-sender")


async def test_once_and_events_yield_typed_messages() -> None:
    bus = EventBus(CATALOG)
    waiter = bus.once("shipmentCreated")
    iterator = bus.events("shipmentCreated")
    await bus.emit("shipmentCreated", {"shipmentId": SHIPMENT})
    message = await waiter
    assert isinstance(message.data, ShipmentCreated)
    assert (await iterator.__anext__()) is message
    await iterator.aclose()
