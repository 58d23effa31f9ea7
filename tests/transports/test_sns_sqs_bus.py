"""Two EventBus processes (SQLite logs) talking through SnsSqsTransport on moto, asyncio and trio."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pydantic
import pytest

from tests.transports.aws import CREDENTIALS, moto_endpoint, queue_counts, unique_prefix
from tests.transports.conftest import until_row
from tidings.runtime import CatalogSpec, EventBus, Message, MessageSpec, RetryPolicy
from tidings.runtime.stores import SQLiteStore
from tidings.runtime.transports import RemoteSubscription
from tidings.runtime.transports._sns_sqs import SnsSqsTransport

__all__ = ["moto_endpoint"]  # the fixture, imported for pytest

pytestmark = pytest.mark.anyio
FAST = RetryPolicy(max_attempts=3, initial_delay=0.05, max_delay=0.2, jitter=False)


class Document(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(populate_by_name=True)
    document_id: int = pydantic.Field(alias="documentId")


def catalog() -> CatalogSpec:
    name = f"c{uuid.uuid4().hex[:10]}"
    return CatalogSpec(name, {
        "documentUploaded": MessageSpec("documentUploaded", "event", Document, retry=FAST, distributed=True),
    })


def transport(endpoint: str, prefix: str) -> SnsSqsTransport:
    return SnsSqsTransport(endpoint_url=endpoint, prefix=prefix, wait_time=1, client_kwargs=CREDENTIALS)


async def declared(bus: EventBus, subscriber: str) -> None:
    """Make sure the subscriber's queue exists before anything is published (SNS keeps nothing
    for a queue that does not exist yet)."""
    assert isinstance(bus.transport, SnsSqsTransport)
    await bus.transport.open(bus.catalog.name)
    await bus.transport.declare(RemoteSubscription(subscriber, ("documentUploaded",), False, bus.lease, 256))




async def test_a_remote_subscriber_on_another_bus_handles_the_event(
    moto_endpoint: str, tmp_path: Path,
) -> None:
    spec, prefix = catalog(), unique_prefix()
    producer, consumer = (EventBus(spec, store=SQLiteStore(tmp_path / f"{side}.db"),
                                   transport=transport(moto_endpoint, prefix))
                          for side in ("producer", "consumer"))
    got: list[Message[Any]] = []
    consumer.on("documentUploaded", got.append, name="indexer", mode="async")
    await declared(consumer, "indexer")
    async with consumer, producer:
        sent = await producer.publish("documentUploaded", {"documentId": 7}, producer="tests")
        row = await until_row(consumer, sent.id, "indexer", lambda d: d.status == "succeeded")
        assert row.attempts == 1
        relay = await until_row(producer, sent.id, "tidings.relay:sns-sqs", lambda d: d.status == "succeeded")
        assert relay.attempts == 1
    [message] = got
    assert (message.id, message.correlation_id, message.producer) == (sent.id, sent.correlation_id, "tests")
    assert message.data == Document(documentId=7)
    assert isinstance(consumer.transport, SnsSqsTransport)
    assert queue_counts(moto_endpoint, consumer.transport.queue_name("indexer")) == (0, 0)


async def test_a_failing_remote_handler_is_retried_through_sqs_then_dead_in_the_log(
    moto_endpoint: str, tmp_path: Path,
) -> None:
    spec, prefix = catalog(), unique_prefix()
    producer, consumer = (EventBus(spec, store=SQLiteStore(tmp_path / f"{side}.db"),
                                   transport=transport(moto_endpoint, prefix))
                          for side in ("producer", "consumer"))
    attempts: list[tuple[int, int]] = []

    async def flaky(message: Message[Any]) -> None:
        attempts.append((message.data.document_id, message.attempt))
        if message.data.document_id == 2 or message.attempt == 1:
            raise RuntimeError("not now")

    consumer.on("documentUploaded", flaky, name="flaky", mode="async")
    await declared(consumer, "flaky")
    async with consumer, producer:
        once = await producer.publish("documentUploaded", {"documentId": 1})
        never = await producer.publish("documentUploaded", {"documentId": 2})
        ok = await until_row(consumer, once.id, "flaky", lambda d: d.status == "succeeded")
        dead = await until_row(consumer, never.id, "flaky", lambda d: d.status == "dead")
    assert ok.attempts == 2
    assert dead.attempts == 3 and dead.last_error is not None and "not now" in dead.last_error
    assert sorted(attempts) == [(1, 1), (1, 2), (2, 1), (2, 2), (2, 3)]
    assert isinstance(consumer.transport, SnsSqsTransport)
    queue = consumer.transport.queue_name("flaky")
    assert queue_counts(moto_endpoint, queue) == (0, 0)
    assert queue_counts(moto_endpoint, queue + "-dlq") == (0, 0)
