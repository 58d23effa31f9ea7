"""Brokers for the transport suite: the real NATS server on 127.0.0.1:4222 and moto's SNS/SQS
server on loopback. Each test gets its own catalog name, hence its own stream, topic and queues."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import anyio
import pydantic
import pytest

from tests.conftest import require_service
from tests.transports.aws import CREDENTIALS, moto_endpoint
from tidings.runtime import CatalogSpec, EventBus, MessageSpec, RetryPolicy
from tidings.runtime.stores import Delivery
from tidings.runtime.transports import NatsTransport, Transport

__all__ = ["moto_endpoint"]  # the session fixture, for the tests here
NATS_URL = "nats://127.0.0.1:4222"
FAST = RetryPolicy(max_attempts=3, initial_delay=0.05, max_delay=0.2, jitter=False)


class Document(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(populate_by_name=True)
    document_id: int = pydantic.Field(alias="documentId")
    note: str = ""


def catalog(name: str, retry: RetryPolicy = FAST) -> CatalogSpec:
    """A catalog with one distributed event, one distributed command and one local event."""
    return CatalogSpec(name, {
        "documentUploaded": MessageSpec("documentUploaded", "event", Document, retry=retry,
                                        distributed=True),
        "METIS_Analyze": MessageSpec("METIS_Analyze", "command", Document, retry=retry,
                                     handler="metis", distributed=True),
        "shipmentCreated": MessageSpec("shipmentCreated", "event", Document, retry=retry),
    })


@dataclass
class Broker:
    """One broker kind for one test: `transport(port)` makes a transport for the test's catalog
    (through `port` on 127.0.0.1 when given: a `TcpProxy` in front of `target`)."""

    kind: str
    target: tuple[str, int]
    make: Callable[[int | None], Transport]
    catalog_name: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:12]}")

    def transport(self, port: int | None = None) -> Transport:
        return self.make(port)


def delete_stream(name: str) -> None:
    """Delete the NATS stream `name` if it exists (from any test, whatever its event loop)."""
    async def delete() -> None:
        import nats

        nc = await nats.connect(NATS_URL)
        try:
            await nc.jetstream().delete_stream(name)
        except Exception:
            pass
        finally:
            await nc.close()

    thread = threading.Thread(target=asyncio.run, args=(delete(),))
    thread.start()
    thread.join(10)


@pytest.fixture
def catalog_name() -> Iterator[str]:
    """A catalog name of its own on the real NATS server; its stream is deleted afterwards."""
    require_service("NATS", "127.0.0.1", 4222)
    name = f"t{uuid.uuid4().hex[:12]}"
    yield name
    delete_stream(f"TIDINGS_{name.upper()}")


@pytest.fixture(params=["nats", "sns-sqs"])
def broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
    """Each transport test runs against every broker kind."""
    if request.param == "nats":
        require_service("NATS", "127.0.0.1", 4222)

        def make(port: int | None) -> Transport:
            return NatsTransport(f"nats://127.0.0.1:{port or 4222}", fetch_timeout=0.5)

        found = Broker("nats", ("127.0.0.1", 4222), make)
        yield found
        delete_stream(f"TIDINGS_{found.catalog_name.upper()}")
        return
    if request.param == "sns-sqs":
        from tidings.runtime.transports import SnsSqsTransport

        endpoint = request.getfixturevalue("moto_endpoint")
        port = int(endpoint.rsplit(":", 1)[1])

        def make_aws(through: int | None) -> Transport:
            return SnsSqsTransport(endpoint_url=f"http://127.0.0.1:{through or port}", wait_time=1,
                                   client_kwargs=CREDENTIALS)

        yield Broker("sns-sqs", ("127.0.0.1", port), make_aws)
        return
    raise AssertionError(request.param)


async def until_row(bus: EventBus, message_id: uuid.UUID, subscriber: str,
                    done: Callable[[Delivery], bool], timeout: float = 40.0) -> Delivery:
    """The delivery row once `done(row)` (polled; `timeout` only guards against a hang)."""
    assert bus.store is not None
    with anyio.fail_after(timeout):
        while True:
            rows = await bus.store.deliveries([(message_id, subscriber)])
            if rows and done(rows[0]):
                return rows[0]
            await anyio.sleep(0.05)
