"""A distributed message the broker can never take: refused at emit with the broker's limit,
before anything is stored; one stored before the limit was known goes `dead` at once with the
reason. A relay that keeps failing for another reason (the broker is away) keeps retrying, and
says so at WARNING now and then, not once per try. Real NATS, moto's SNS, SQLite, PostgreSQL."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from tests.conftest import require_service
from tests.faults.support import SqlBackend
from tests.faults.test_nats_size import server_max_payload
from tests.transports._proxy import TcpProxy
from tests.transports.aws import moto_endpoint
from tests.transports.conftest import Broker, broker, catalog, catalog_name, until_row
from tidings.runtime import EventBus, Message, NatsTransport
from tidings.runtime.transports import MessageTooLarge

__all__ = ["broker", "catalog_name", "moto_endpoint"]  # fixtures, imported for pytest

pytestmark = pytest.mark.anyio
SNS_LIMIT = 262144
"""SNS's cap on one message, its attributes included (256 KiB)."""
RELAY = "tidings.relay:"


async def broker_limit(broker: Broker) -> int:
    if broker.kind == "nats":
        return await server_max_payload()
    return SNS_LIMIT




def bus_through(proxy: TcpProxy, backend: SqlBackend, catalog_name: str) -> EventBus:
    """A bus on `backend` whose NATS transport goes through `proxy` (cut it to make NATS away)."""
    return EventBus(catalog(catalog_name), store=backend.new(), poll_interval=0.05,
                    transport=NatsTransport(f"nats://127.0.0.1:{proxy.port}",
                                            connect_options={"connect_timeout": 0.2}))


def relay_lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == level and "relay" in r.getMessage()]


async def test_an_oversize_distributed_message_is_refused_before_it_is_stored(
    sql_backend: SqlBackend, broker: Broker
) -> None:
    limit = await broker_limit(broker)
    seen: list[Message[Any]] = []
    bus = EventBus(catalog(broker.catalog_name), store=sql_backend.new(),
                   transport=broker.transport(), poll_interval=0.05)
    bus.on("documentUploaded", seen.append, mode="async", name="here", remote=False)
    big = {"documentId": 1, "note": "x" * limit}
    async with bus:
        for send in (bus.publish, bus.emit, bus.emit_serial):
            with pytest.raises(MessageTooLarge) as caught:
                await send("documentUploaded", big)
            error = caught.value
            assert error.limit == limit and error.size > limit
            assert "'documentUploaded'" in str(error) and f"{error.size} bytes" in str(error)
            assert f"at most {limit} bytes" in str(error)
        assert sql_backend.admin("SELECT count(*) FROM messages", ()) == [(0,)]
        assert sql_backend.admin("SELECT count(*) FROM deliveries", ()) == [(0,)]
        # A local name crosses no broker: no limit. A small distributed one is relayed.
        await bus.publish("shipmentCreated", {"documentId": 2, "note": "x" * limit})
        small = await bus.publish("documentUploaded", {"documentId": 3})
        row = await until_row(bus, small.id, RELAY + broker.kind, lambda d: d.status == "succeeded")
        assert row.attempts == 1
        await bus.drain()
    assert [m.id for m in seen] == [small.id]  # the refused ones never reached a handler
    assert sql_backend.admin("SELECT count(*) FROM messages", ()) == [(2,)]


async def test_a_stored_message_the_broker_can_never_take_goes_dead_at_once(
    sql_backend: SqlBackend, catalog_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Emitted while NATS was away: the limit was not known, the message was accepted and
    # stored. When NATS is back, the relay learns the limit: the row is dead, not retried.
    limit = await server_max_payload()
    with TcpProxy("127.0.0.1", 4222) as proxy, caplog.at_level(logging.DEBUG, logger="tidings"):
        proxy.cut()
        bus = bus_through(proxy, sql_backend, catalog_name)
        async with bus:
            big = await bus.publish("documentUploaded", {"documentId": 1, "note": "x" * limit})
            await until_row(bus, big.id, RELAY + "nats", lambda d: d.attempts >= 1 and d.status == "failed")
            proxy.restore()
            row = await until_row(bus, big.id, RELAY + "nats",
                                  lambda d: d.status == "dead" or d.attempts >= 5)
            small = await bus.publish("documentUploaded", {"documentId": 2})
            await until_row(bus, small.id, RELAY + "nats", lambda d: d.status == "succeeded")
    assert row.status == "dead", row
    assert row.last_error is not None and "MessageTooLarge" in row.last_error
    assert f"takes at most {limit} bytes" in row.last_error
    dead = [r for r in caplog.records if r.levelno == logging.ERROR and str(big.id) in r.getMessage()]
    assert len(dead) == 1 and "dead" in dead[0].getMessage(), [r.getMessage() for r in dead]
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]


async def test_a_relay_that_keeps_failing_warns_now_and_then(
    sql_backend: SqlBackend, catalog_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    require_service("NATS", "127.0.0.1", 4222)
    with TcpProxy("127.0.0.1", 4222) as proxy, caplog.at_level(logging.DEBUG, logger="tidings"):
        proxy.cut()
        bus = bus_through(proxy, sql_backend, catalog_name)
        async with bus:
            sent = await bus.publish("documentUploaded", {"documentId": 1})
            row = await until_row(bus, sent.id, RELAY + "nats", lambda d: d.attempts >= 7)
            assert row.status != "dead"
            quiet = relay_lines(caplog, logging.DEBUG)
            warned = relay_lines(caplog, logging.WARNING)
            proxy.restore()
            await until_row(bus, sent.id, RELAY + "nats", lambda d: d.status == "succeeded")
    assert len(quiet) >= 6, quiet  # each try, at DEBUG
    assert len(warned) == 1, warned  # the first few tries quiet, then one line (not one a try)
    assert "outbox relay" in warned[0] and "still retrying" in warned[0], warned
    assert "cannot connect to NATS" in warned[0], warned
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.records
    back = relay_lines(caplog, logging.INFO)
    assert len(back) == 1 and "publishing again" in back[0], back


async def test_sns_refuses_a_message_over_256_kib_with_its_attributes(moto_endpoint: str) -> None:
    from tests.faults.test_nats_size import message
    from tests.transports.aws import CREDENTIALS, unique_prefix
    from tidings.runtime.transports import SnsSqsTransport, to_headers

    def attributes_size(m: Any) -> int:  # SNS counts each attribute's name, type and value
        return sum(len(k) + len("String") + len(v.encode()) for k, v in to_headers(m).items() if v)

    base = message(0)
    fits = SNS_LIMIT - len(base.payload.encode()) - attributes_size(base)
    at_limit, over = message(fits), message(fits + 1)
    assert len(at_limit.payload.encode()) + attributes_size(at_limit) == SNS_LIMIT
    transport = SnsSqsTransport(endpoint_url=moto_endpoint, prefix=unique_prefix(), wait_time=1,
                                client_kwargs=CREDENTIALS)
    async with transport:
        await transport.open(f"c{uuid.uuid4().hex[:10]}")
        transport.check_size(at_limit)
        await transport.publish(at_limit)  # SNS takes it
        with pytest.raises(MessageTooLarge, match=rf"SNS takes at most {SNS_LIMIT} bytes") as checked:
            transport.check_size(over)
        assert (checked.value.size, checked.value.limit) == (SNS_LIMIT + 1, SNS_LIMIT)
        with pytest.raises(MessageTooLarge, match=rf"is {SNS_LIMIT + 1} bytes with its attributes"):
            await transport.publish(over)  # refused before sending: retrying cannot help
        await transport.publish(message(10))  # the outbox still works


async def test_a_handler_that_raises_a_permanent_error_is_dead_at_once(sql_backend: SqlBackend) -> None:
    from tidings.runtime import PermanentError, RetryPolicy

    class NoSuchDocument(PermanentError):
        pass

    tries: list[int] = []

    def handler(message: Message[Any]) -> None:
        tries.append(message.attempt)
        raise NoSuchDocument(f"document {message.data.document_id} was deleted")

    bus = EventBus(catalog("probe"), store=sql_backend.new(), poll_interval=0.05)
    bus.on("shipmentCreated", handler, mode="async", name="reader",
           retry=RetryPolicy(max_attempts=5, initial_delay=0.01, retry_on=(Exception,)))
    async with bus:
        sent = await bus.publish("shipmentCreated", {"documentId": 7})
        row = await until_row(bus, sent.id, "reader", lambda d: d.status in ("dead", "succeeded"))
    assert (row.status, row.attempts, tries) == ("dead", 1, [1])
    assert row.last_error is not None and "document 7 was deleted" in row.last_error


async def test_the_quick_size_bound_is_never_below_the_wire_size() -> None:
    from datetime import UTC, datetime

    from tidings.runtime.stores import StoredMessage
    from tidings.runtime.transports import to_headers
    from tidings.runtime.transports._wire import size_bound

    mid = uuid.uuid4()
    for payload, producer, traceparent in [("{}", None, None), ('"' + "é€😀" * 500 + '"', "ç" * 300,
                                            "00-" + "f" * 32 + "-" + "e" * 16 + "-01")]:
        m = StoredMessage(mid, "n" * 200, 2**31, payload, datetime.now(UTC), mid, mid, producer,
                          traceparent)
        headers = to_headers(m)
        wire = len(payload.encode()) + 12 + sum(len(k) + len(v.encode()) + 4 for k, v in headers.items())
        attributes = len(payload.encode()) + sum(len(k) + 6 + len(v.encode()) for k, v in headers.items())
        assert size_bound(m) >= max(wire + 100, attributes)  # + the NATS stream header
