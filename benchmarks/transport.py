"""Benchmark of the NATS transport (issue 6's figures; a benchmark, not a test).

On one NATS JetStream server (default nats://127.0.0.1:4222), with the same N JSON payloads (a
shipment event of about 150 bytes), in one run, end to end (first publish until the consumer
has seen every message; publisher and consumer run at once, each on its own connection):

- the floor: raw nats-py JetStream: `js.publish_async` with a `Nats-Msg-Id` header per message
  (up to 4,000 unacknowledged publishes in flight, every PubAck awaited), and a durable pull
  consumer fetching batches of 256 and acking each message;
- FastStream's NATS broker: a JetStream stream, a durable subscriber with a pydantic model (its
  default push consumer, and the pull consumer `pull_sub=PullSub(256)`), and its publisher
  (awaits each PubAck) from PUBLISHERS concurrent tasks; per-message logging off (logger=None);
- tidings: a producer `EventBus` (SQLite outbox) with a `NatsTransport`, PUBLISHERS
  concurrent publishers awaiting durable `emit`s, and a consumer `EventBus` (its own SQLite
  log, its own `NatsTransport`) with one remote async subscriber;
- the ratios tidings / floor (goal >= 0.5) and tidings / FastStream (goal >= 1.0; against the
  faster FastStream consumer).

Every part runs on a stream of its own, deleted afterwards; each figure is the best of --runs
rounds (the parts alternate within a round; the machine is shared).

    .venv/bin/python benchmarks/transport.py [--messages 20000] [--runs 3] [--publishers 100] [--server URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import importlib.metadata
import json
import tempfile
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import nats
import pydantic
from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig

from tidings.runtime import CatalogSpec, EventBus, Message, MessageSpec
from tidings.runtime.stores import SQLiteStore

FETCH_BATCH = 256
ASYNC_PENDING = 4_000
T = TypeVar("T")
GUARD = 300.0  # seconds: a hung part fails instead of blocking forever


class ShipmentCreated(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(populate_by_name=True)
    shipment_id: str = pydantic.Field(alias="shipmentId")
    reference: str
    origin: str
    destination: str
    weight_kg: float = pydantic.Field(alias="weightKg")
    carrier: str


def payloads(n: int) -> list[dict[str, Any]]:
    """N shipment events (the same for every part), about 150 bytes of JSON each."""
    return [{"shipmentId": str(uuid.uuid4()), "reference": f"REF-{i:08d}", "origin": "NLRTM",
             "destination": "DEHAM", "weightKg": 1250.5 + i % 100, "carrier": "NSF"}
            for i in range(n)]


def run_id() -> str:
    return uuid.uuid4().hex[:10]


async def delete_stream(server: str, name: str) -> None:
    from nats.js.errors import NotFoundError

    nc = await nats.connect(server)
    try:
        with contextlib.suppress(NotFoundError):
            await nc.jetstream().delete_stream(name)
    finally:
        await nc.close()


# -- a) the floor: raw nats-py ------------------------------------------------------------------

async def run_floor(data: list[dict[str, Any]], server: str) -> float:
    """Raw nats-py JetStream publish (publish_async, every ack awaited) + pull consume (every
    message acked), concurrently; messages per second."""
    n = len(data)
    run = run_id()
    stream, subject = f"BENCH_FLOOR_{run}", f"bench.{run}.shipmentCreated"
    bodies = [json.dumps(p, separators=(",", ":")).encode() for p in data]
    ids = [str(uuid.uuid4()) for _ in range(n)]
    pub_nc = await nats.connect(server)
    sub_nc = await nats.connect(server)
    try:
        js = pub_nc.jetstream(publish_async_max_pending=ASYNC_PENDING)
        await js.add_stream(StreamConfig(name=stream, subjects=[f"bench.{run}.>"], storage=StorageType.FILE))
        sub_js = sub_nc.jetstream()
        psub = await sub_js.pull_subscribe(
            subject, durable="floor", stream=stream, config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT)
        )

        async def publish() -> None:
            acks = [await js.publish_async(subject, body, headers={"Nats-Msg-Id": mid})
                    for body, mid in zip(bodies, ids, strict=True)]
            await asyncio.gather(*acks)  # raises if the server refused any

        async def consume() -> None:
            got = 0
            while got < n:
                try:
                    msgs = await psub.fetch(FETCH_BATCH, timeout=1.0)
                except nats.errors.TimeoutError:
                    continue
                for msg in msgs:
                    await msg.ack()
                got += len(msgs)
            await sub_nc.flush()  # the last ack reached the server

        async with asyncio.timeout(GUARD):
            start = time.perf_counter()
            await asyncio.gather(publish(), consume())
            elapsed = time.perf_counter() - start
    finally:
        await pub_nc.close()
        await sub_nc.close()
        await delete_stream(server, stream)
    return n / elapsed


# -- b) FastStream ------------------------------------------------------------------------------

async def run_faststream(data: list[dict[str, Any]], server: str, publishers: int, pull: bool) -> float:
    """FastStream's NATS publisher (PubAck awaited, `publishers` tasks) and a durable JetStream
    subscriber (push by default, or `pull_sub`) taking the pydantic model; messages per second."""
    from faststream.nats import JStream, NatsBroker, PullSub

    n = len(data)
    run = run_id()
    stream = JStream(f"BENCH_FS_{run}", subjects=[f"bench.{run}.>"])
    subject = f"bench.{run}.shipmentCreated"
    models = [ShipmentCreated.model_validate(p) for p in data]
    ids = [str(uuid.uuid4()) for _ in range(n)]
    seen = 0
    done = asyncio.Event()
    consumer = NatsBroker(server, logger=None)
    extra: dict[str, Any] = {"pull_sub": PullSub(batch_size=FETCH_BATCH, timeout=1.0)} if pull else {}
    # on a durable push subscriber FastStream warns that it recommends the pull one: we run both
    warnings.filterwarnings("ignore", "The JetStream Push consumer", RuntimeWarning)

    @consumer.subscriber(subject, stream=stream, durable="faststream", **extra)  # type: ignore[untyped-decorator]
    async def handle(body: ShipmentCreated) -> None:
        nonlocal seen
        seen += 1
        if seen == n:
            done.set()

    producer = NatsBroker(server, logger=None)
    publisher = producer.publisher(subject, stream=stream.name)

    async def publish(k: int) -> None:
        for i in range(k, n, publishers):
            await publisher.publish(models[i], headers={"Nats-Msg-Id": ids[i]})

    try:
        await consumer.start()
        await producer.start()
        async with asyncio.timeout(GUARD):
            start = time.perf_counter()
            await asyncio.gather(*(publish(k) for k in range(publishers)))
            await done.wait()
            elapsed = time.perf_counter() - start
    finally:
        await producer.stop()
        await consumer.stop()
        await delete_stream(server, stream.name)
    return n / elapsed


# -- c) tidings ---------------------------------------------------------------------------------

class Unavailable(Exception):
    """The tidings side cannot run yet (the NATS transport is not there)."""


def nats_transport() -> type[Any]:
    """`NatsTransport`, or Unavailable when this checkout has none yet."""
    try:
        transports = importlib.import_module("tidings.runtime.transports")
        found = getattr(transports, "NatsTransport", None)
        if found is None:
            found = importlib.import_module("tidings.runtime.transports._nats").NatsTransport
    except (ImportError, AttributeError) as exc:
        raise Unavailable(f"no NatsTransport in tidings.runtime.transports: {exc}") from None
    transport: type[Any] = found
    return transport


async def run_tidings(data: list[dict[str, Any]], server: str, publishers: int, folder: Path) -> float:
    """tidings end to end over NATS: `publishers` tasks emit on a producer bus (SQLite outbox,
    relayed to JetStream), one remote async subscriber on a consumer bus (its own SQLite log)
    sees every message; messages per second. Both buses are started and connected first (one
    warm-up message crosses before the clock starts)."""
    NatsTransport = nats_transport()
    n = len(data)
    run = run_id()
    stream = f"BENCH_TIDINGS_{run}"
    catalog = CatalogSpec(f"bench{run}", {
        "shipmentCreated": MessageSpec("shipmentCreated", "event", ShipmentCreated, distributed=True),
    })
    try:
        producer = EventBus(catalog, store=SQLiteStore(folder / f"producer-{run}.db"),
                            transport=NatsTransport(server, stream=stream))
        consumer = EventBus(catalog, store=SQLiteStore(folder / f"consumer-{run}.db"),
                            transport=NatsTransport(server, stream=stream))
    except TypeError as exc:  # the API moved under us
        raise Unavailable(f"EventBus/NatsTransport API mismatch: {exc}") from None
    seen = 0
    target = 1
    done = anyio.Event()

    async def handler(message: Message[ShipmentCreated]) -> None:
        nonlocal seen
        seen += 1
        if seen == target:
            done.set()

    consumer.on("shipmentCreated", handler, mode="async", name="bench")

    async def publish(k: int) -> None:
        for i in range(k, n, publishers):
            await producer.emit("shipmentCreated", data[i])

    try:
        async with consumer, producer:
            with anyio.fail_after(GUARD):
                await producer.emit("shipmentCreated", data[0])  # warm-up: connect, create the consumer
                await done.wait()
                seen, target, done = 0, n, anyio.Event()
                start = time.perf_counter()
                async with anyio.create_task_group() as tg:
                    for k in range(publishers):
                        tg.start_soon(publish, k)
                await done.wait()
                elapsed = time.perf_counter() - start
    finally:
        await delete_stream(server, stream)
    return n / elapsed


async def run_tidings_halves(
    data: list[dict[str, Any]], server: str, publishers: int, folder: Path
) -> tuple[float, float]:
    """Where tidings' time goes (`--breakdown`): the producer alone (durable emits until the
    relay has published every message: `drain()`), then a consumer bus alone on the stream
    the producer filled (start until its handler has seen every message); messages per second each."""
    NatsTransport = nats_transport()
    n = len(data)
    run = run_id()
    stream = f"BENCH_TIDINGS_{run}"
    catalog = CatalogSpec(f"bench{run}", {
        "shipmentCreated": MessageSpec("shipmentCreated", "event", ShipmentCreated, distributed=True),
    })
    producer = EventBus(catalog, store=SQLiteStore(folder / f"producer-{run}.db"),
                        transport=NatsTransport(server, stream=stream))

    async def publish(k: int) -> None:
        for i in range(k, n, publishers):
            await producer.emit("shipmentCreated", data[i])

    seen = 0
    done = anyio.Event()

    async def handler(message: Message[ShipmentCreated]) -> None:
        nonlocal seen
        seen += 1
        if seen == n + 1:
            done.set()

    try:
        with anyio.fail_after(GUARD):
            async with producer:
                await producer.emit("shipmentCreated", data[0])  # warm-up: connect, create the stream
                await producer.drain()
                start = time.perf_counter()
                async with anyio.create_task_group() as tg:
                    for k in range(publishers):
                        tg.start_soon(publish, k)
                await producer.drain()
                produced = n / (time.perf_counter() - start)
            consumer = EventBus(catalog, store=SQLiteStore(folder / f"consumer-{run}.db"),
                                transport=NatsTransport(server, stream=stream))
            consumer.on("shipmentCreated", handler, mode="async", name="bench")
            start = time.perf_counter()
            async with consumer:
                await done.wait()
                consumed = (n + 1) / (time.perf_counter() - start)
    finally:
        await delete_stream(server, stream)
    return produced, consumed


# -- the table ----------------------------------------------------------------------------------

async def server_version(server: str) -> str:
    nc = await nats.connect(server)
    try:
        v = nc.connected_server_version
        return f"{v.major}.{v.minor}.{v.patch}"
    finally:
        await nc.close()


def run(fn: Callable[..., Awaitable[T]], *fn_args: Any) -> T:
    """`fn(*fn_args)` in a fresh asyncio loop (nats-py and FastStream run on asyncio only)."""
    return anyio.run(fn, *fn_args, backend="asyncio")


def best_of(label: str, results: list[float]) -> str:
    return f"{label:<70}{max(results):>10,.0f}   ({', '.join(f'{r:,.0f}' for r in results)})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--publishers", type=int, default=100)
    parser.add_argument("--server", default="nats://127.0.0.1:4222")
    parser.add_argument("--breakdown", action="store_true",
                        help="also time tidings' producer and consumer halves apart")
    args = parser.parse_args()
    data = payloads(args.messages)
    size = sum(len(json.dumps(p, separators=(",", ":"))) for p in data) / len(data)

    fs_version = importlib.metadata.version("faststream")
    version = run(server_version, args.server)
    floor: list[float] = []
    push: list[float] = []
    pull: list[float] = []
    ours: list[float] = []
    halves: list[tuple[float, float]] = []
    unavailable: str | None = None
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.runs):
            floor.append(run(run_floor, data, args.server))
            push.append(run(run_faststream, data, args.server, args.publishers, False))
            pull.append(run(run_faststream, data, args.server, args.publishers, True))
            if unavailable is None:
                try:
                    ours.append(run(run_tidings, data, args.server, args.publishers, Path(scratch)))
                except Unavailable as exc:
                    unavailable = str(exc)
                if unavailable is None and args.breakdown:
                    halves.append(run(run_tidings_halves, data, args.server, args.publishers, Path(scratch)))
    print(f"N = {args.messages:,} messages of {size:.0f} bytes JSON each; NATS {version} at {args.server};"
          f" best of {args.runs} runs (all runs in brackets);\n{args.publishers} concurrent publishers for b)"
          " and c); messages/s end to end\n")
    print(best_of("a) floor: nats-py JetStream, publish_async + pull consumer", floor))
    print(best_of(f"b) FastStream {fs_version}, push subscriber (its default)", push))
    print(best_of(f"b) FastStream {fs_version}, pull_sub=PullSub({FETCH_BATCH}) (it recommends)", pull))
    if unavailable is not None:
        print(f"c) tidings: not available yet ({unavailable})")
        return
    print(best_of("c) tidings: SQLite outbox -> NATS -> 1 remote async subscriber", ours))
    if halves:
        print(best_of("   tidings producer alone: durable emit -> outbox -> relay -> PubAck",
                      [h[0] for h in halves]))
        print(best_of("   tidings consumer alone: stream -> SQLite log -> handler -> ack",
                      [h[1] for h in halves]))
    fast = max(max(push), max(pull))
    print(f"\nratio tidings/floor:      {max(ours) / max(floor):.3f} (goal >= 0.5)")
    print(f"ratio tidings/FastStream: {max(ours) / fast:.3f} (goal >= 1.0; against FastStream's faster"
          f" consumer, {'push' if max(push) >= max(pull) else 'pull'})")


if __name__ == "__main__":
    main()
