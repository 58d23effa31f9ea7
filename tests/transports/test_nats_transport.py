"""NatsTransport on the real server: what the behaviour suite cannot ask of every broker."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.conftest import require_service
from tests.store.support import PG_DSN
from tests.transports.conftest import NATS_URL, catalog, delete_stream
from tests.transports.test_behaviour import until
from tidings.runtime import EventBus, Message, NatsTransport, PostgresStore, SQLiteStore, TransportError
from tidings.runtime._ids import uuid7
from tidings.runtime.stores._base import StoredMessage

pytestmark = pytest.mark.anyio


async def test_a_stream_deleted_under_the_relay_is_created_again(catalog_name: str, tmp_path: Path) -> None:
    producer = EventBus(catalog(catalog_name), store=SQLiteStore(tmp_path / "p.db"),
                        transport=NatsTransport(NATS_URL))
    consumer = EventBus(catalog(catalog_name), store=SQLiteStore(tmp_path / "c.db"),
                        transport=NatsTransport(NATS_URL))
    got: list[int] = []
    consumer.on("documentUploaded", lambda m: got.append(m.data.document_id), mode="async", name="r")
    async with producer:
        await producer.emit("documentUploaded", {"documentId": 1})
        await producer.drain()
        await anyio.to_thread.run_sync(delete_stream, f"TIDINGS_{catalog_name.upper()}")
        await producer.emit("documentUploaded", {"documentId": 2})  # refused (no stream), retried
        async with consumer:  # its consumer is new: it starts at the oldest message kept
            await until(lambda: 2 in got)
    assert got == [2]


async def test_publish_without_a_connection_fails_at_once(catalog_name: str) -> None:
    transport = NatsTransport("nats://127.0.0.1:1", connect_options={"connect_timeout": 0.2})
    async with transport:
        await transport.open(catalog_name)
        with pytest.raises(TransportError, match=r"cannot connect to NATS at nats://127\.0\.0\.1:1"):
            await transport.publish(_stored(1))


async def test_a_message_that_is_no_tidings_message_is_terminated(catalog_name: str, tmp_path: Path) -> None:
    consumer = EventBus(catalog(catalog_name), store=SQLiteStore(tmp_path / "c.db"),
                        transport=NatsTransport(NATS_URL))
    got: list[Message[Any]] = []
    consumer.on("documentUploaded", got.append, mode="async", name="r")
    async with consumer:
        foreign = f"tidings.{catalog_name}.documentUploaded"
        await anyio.to_thread.run_sync(_publish_raw, foreign, b"{}")  # no tidings headers
        assert consumer.transport is not None
        await consumer.transport.publish(_stored(5))
        await until(lambda: got)
        await anyio.sleep(0.3)
    assert [m.data.document_id for m in got] == [5]


def _publish_raw(subject: str, data: bytes) -> None:
    async def publish() -> None:
        import nats

        nc = await nats.connect(NATS_URL)
        try:
            await nc.jetstream().publish(subject, data)
        finally:
            await nc.close()

    asyncio.run(publish())


def _stored(document_id: int) -> StoredMessage:
    message_id = uuid7()
    return StoredMessage(message_id, "documentUploaded", 1, f'{{"documentId": {document_id}}}',
                         datetime.now(UTC), message_id, None, "test")


async def test_postgres_logs_on_both_sides(catalog_name: str, tmp_path: Path) -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    import psycopg

    schemas = [f"tr_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    producer, consumer = (
        EventBus(catalog(catalog_name), store=PostgresStore(PG_DSN, schema=schema),
                 transport=NatsTransport(NATS_URL))
        for schema in schemas
    )
    attempts: list[int] = []

    def flaky(message: Message[Any]) -> None:
        attempts.append(message.attempt)
        if message.attempt == 1:
            raise RuntimeError("first time")

    consumer.on("documentUploaded", flaky, mode="async", name="metis.read")
    try:
        async with producer, consumer:
            sent = await producer.publish("documentUploaded", {"documentId": 1})
            await until(lambda: attempts == [1, 2])
            assert consumer.store is not None and producer.store is not None
            with anyio.fail_after(10):
                while [d.status for d in (await consumer.store.log())[0].deliveries] != ["succeeded"]:
                    await anyio.sleep(0.02)
            [entry] = await consumer.store.log()
            assert entry.message.id == sent.id and entry.deliveries[0].attempts == 2
            [outbox] = (await producer.store.log())[0].deliveries
            assert (outbox.subscriber, outbox.status) == ("tidings.relay:nats", "succeeded")
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def test_max_in_flight_bounds_a_remote_subscribers_deliveries(
    catalog_name: str, tmp_path: Path
) -> None:
    producer = EventBus(catalog(catalog_name), store=SQLiteStore(tmp_path / "p.db"),
                        transport=NatsTransport(NATS_URL))
    consumer = EventBus(catalog(catalog_name), store=SQLiteStore(tmp_path / "c.db"),
                        transport=NatsTransport(NATS_URL), max_in_flight=3)
    running = peak = done = 0
    release = anyio.Event()

    async def handle(message: Message[Any]) -> None:
        nonlocal running, peak, done
        running += 1
        peak = max(peak, running)
        try:
            await release.wait()
        finally:
            running -= 1
            done += 1

    consumer.on("documentUploaded", handle, mode="async", name="slow")
    async with consumer, producer:
        for i in range(12):
            await producer.emit("documentUploaded", {"documentId": i})
        await until(lambda: peak >= 3)
        await anyio.sleep(1.0)  # time for more to arrive, were they not held back
        seen = peak
        release.set()
        await until(lambda: done == 12)
    assert seen == 3
    assert peak == 3
