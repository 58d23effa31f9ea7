"""A distributed message over NATS max_payload is refused with the server's limit, before and
at publish, and a publish that never left leaves no "Future exception was never retrieved"."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import anyio
import pytest

from tests.conftest import require_service
from tidings.runtime.stores import StoredMessage
from tidings.runtime.transports import MessageTooLarge, NatsTransport

pytestmark = pytest.mark.anyio
NATS_URL = "nats://127.0.0.1:4222"


def message(size: int) -> StoredMessage:
    mid = uuid.uuid4()
    payload = '{"documentId": 1, "note": "' + "x" * size + '"}'
    return StoredMessage(mid, "documentUploaded", 1, payload, datetime.now(UTC), mid, None, "core")


async def server_max_payload() -> int:
    """The server's max_payload, as its INFO says to a plain nats-py client (on asyncio)."""
    import nats

    async def ask() -> int:
        nc = await nats.connect(NATS_URL)
        try:
            return int(nc.max_payload)
        finally:
            await nc.close()

    limit: int = await anyio.to_thread.run_sync(asyncio.run, ask())
    return limit


@contextlib.asynccontextmanager
async def nats_transport() -> AsyncIterator[tuple[NatsTransport, int]]:
    """A connected transport on a stream of its own (deleted afterwards), and the server's limit."""
    require_service("NATS", "127.0.0.1", 4222)
    from tests.transports.conftest import delete_stream

    limit = await server_max_payload()
    transport = NatsTransport(NATS_URL, publish_timeout=0.3)
    await transport.open(f"t{uuid.uuid4().hex[:12]}")
    try:
        yield transport, limit
    finally:
        await transport.close()
        delete_stream(transport.stream_name)


async def test_an_oversize_message_is_refused_with_the_broker_limit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with nats_transport() as (transport, limit):
        big, small = message(limit + 1000), message(100)
        transport.check_size(small)
        with pytest.raises(MessageTooLarge, match=rf"takes at most {limit} bytes") as checked:
            transport.check_size(big)
        assert checked.value.limit == limit and checked.value.size > limit
        with caplog.at_level(logging.ERROR):
            for _ in range(3):
                with pytest.raises(MessageTooLarge, match=rf"takes at most {limit} bytes"):
                    await transport.publish(big)
            await transport.publish(small)  # the connection and the acks still work
            await anyio.sleep(0.6)  # past publish_timeout: the sweeper has seen every future
            gc.collect()
        assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
        # Just under the limit with its headers: accepted by the check and by the server.
        headroom = limit - len(message(0).payload.encode()) - 600
        near = message(headroom)
        transport.check_size(near)
        await transport.publish(near)


async def test_a_publish_the_client_refuses_leaves_no_unretrieved_future(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Past our own check (the limit not known yet): nats-py's MaxPayloadError is turned into
    # MessageTooLarge and the ack future it would have left behind is cancelled.
    async with nats_transport() as (transport, limit):
        with caplog.at_level(logging.ERROR):
            await transport.publish(message(10))
            transport._max_payload = None  # as before the first connect
            with pytest.raises(MessageTooLarge, match=str(limit)):
                await transport.publish(message(limit + 10))
            await anyio.sleep(0.6)
            gc.collect()
        assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
