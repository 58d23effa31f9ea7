"""A PostgreSQL store whose connections were killed waits for the pool to reconnect (psycopg_pool
backs off 1, 2, 4... seconds between broken connections): that wait is logged as a WARNING
(how long, for what), never a silent stall of the emits."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest

from tests.conftest import require_service
from tests.faults.support import drop_schema, new_schema
from tests.store.support import CATALOG, PG_DSN, terminate_connections
from tidings.runtime import EventBus, Message, PostgresStore

pytestmark = pytest.mark.anyio


async def test_waiting_for_a_connection_after_kills_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = new_schema()
    app = f"tidings-{schema}"
    store = PostgresStore(PG_DSN, schema=schema, application_name=app)
    store.connection_wait_warning = 0.2  # seconds; the default is longer
    handled: list[int] = []

    async def handler(message: Message[Any]) -> None:
        handled.append(message.data.shipment_id)

    bus = EventBus(CATALOG, store=store, poll_interval=0.05)
    bus.on("shipmentCreated", handler, name="h", mode="async")
    try:
        with caplog.at_level(logging.WARNING), anyio.fail_after(60):
            async with bus:
                for i in range(10):
                    await bus.publish("shipmentCreated", {"shipmentId": i})
                killed = 0
                for _ in range(3):  # rapid kills, as the probe did
                    killed += await anyio.to_thread.run_sync(terminate_connections, app)
                    await anyio.sleep(0.05)
                assert killed >= 3
                for i in range(10, 20):
                    await bus.publish("shipmentCreated", {"shipmentId": i})
                await bus.drain()
        assert sorted(handled) == list(range(20))
        waits = [r.getMessage() for r in caplog.records
                 if r.levelno == logging.WARNING and "waited" in r.getMessage()
                 and "connection" in r.getMessage()]
        assert waits, [r.getMessage() for r in caplog.records]
        assert any(str(store) in w for w in waits), waits
    finally:
        drop_schema(schema)
