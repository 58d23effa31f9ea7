"""Benchmark of the NATS transport (issue 6's figures; a benchmark, not a test).

On one NATS JetStream server (default nats://127.0.0.1:4222), with the same N JSON payloads (a
shipment event of about 150 bytes), in one run, end to end (first publish until the consumer
has seen every message; publisher and consumer run at once, each on its own connection,
by default each in its own process, see below):

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

By default every part (alike) runs its publisher and its consumer as two OS processes (spawn),
as services would: both start together; the consumer declares/subscribes and signals it is
ready; the publisher sends one warm-up message, waits until the consumer has handled it, then
takes time.time() and publishes the N; the consumer takes time.time() at its last handled
message; the figure is N / (consumer's last - publisher's start), both from the one machine
clock. `--one-process` runs each part's two halves in this one process instead (one GIL: the
figure then pays for both halves' CPU). `--breakdown` adds tidings' producer alone and consumer
alone (one after the other, in this process).

Every part runs on a stream of its own, deleted afterwards; each figure is the best of --runs
rounds (the parts alternate within a round; the machine is shared).

    .venv/bin/python benchmarks/transport.py [--messages 20000] [--runs 3] [--publishers 100] [--server URL]
                                             [--one-process] [--breakdown]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import importlib.metadata
import json
import multiprocessing
import os
import queue
import tempfile
import time
import traceback
import uuid
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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


# -- separate processes (the default) ------------------------------------------------------------
# Each part again, its publisher and its consumer in two OS processes (spawn), started together.
# The consumer subscribes, then sets `ready`; the publisher (connected meanwhile) emits one
# warm-up message and waits for `warm` (the consumer has handled it); then it takes time.time()
# and publishes the N. The consumer reports time.time() at its last handled message; the figure
# is N / (that - the publisher's start). Both stamps come from the one machine clock.

@dataclass(frozen=True)
class Part:
    """What both processes of a part are told: which part, its run id (so its stream), the server,
    the payloads, the publisher tasks and a scratch folder (tidings' SQLite files)."""

    kind: str  # "floor" | "push" | "pull" | "tidings"
    run: str
    server: str
    data: list[dict[str, Any]]
    publishers: int
    folder: Path

    @property
    def stream(self) -> str:
        prefix = {"floor": "BENCH_FLOOR", "push": "BENCH_FS", "pull": "BENCH_FS", "tidings": "BENCH_TIDINGS"}
        return f"{prefix[self.kind]}_{self.run}"

    @property
    def subject(self) -> str:
        return f"bench.{self.run}.shipmentCreated"


Signal = Any  # a multiprocessing Event (its type is not public)


async def wait_for(signal: Signal, what: str) -> None:
    """Wait for the other process's `signal` in a thread (this loop's tasks, e.g. a relay, go on)."""
    if not await anyio.to_thread.run_sync(signal.wait, GUARD):
        raise TimeoutError(f"no {what} within {GUARD:.0f} s")


def tidings_catalog(run: str) -> CatalogSpec:
    return CatalogSpec(f"bench{run}", {
        "shipmentCreated": MessageSpec("shipmentCreated", "event", ShipmentCreated, distributed=True),
    })


async def floor_consume(part: Part, ready: Signal, warm: Signal) -> float:
    """Declare the stream and a durable pull consumer, then fetch and ack the warm-up and the N."""
    n = len(part.data)
    nc = await nats.connect(part.server)
    try:
        js = nc.jetstream()
        await js.add_stream(StreamConfig(name=part.stream, subjects=[f"bench.{part.run}.>"],
                                         storage=StorageType.FILE))
        psub = await js.pull_subscribe(part.subject, durable="floor", stream=part.stream,
                                       config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT))
        ready.set()
        got = 0
        while got < n + 1:
            try:
                msgs = await psub.fetch(FETCH_BATCH, timeout=1.0)
            except nats.errors.TimeoutError:
                continue
            for msg in msgs:
                await msg.ack()
            if got == 0:
                warm.set()
            got += len(msgs)
        await nc.flush()  # the last ack reached the server
        return time.time()
    finally:
        await nc.close()


async def floor_publish(part: Part, ready: Signal, warm: Signal) -> float:
    """publish_async with a Nats-Msg-Id per message, every PubAck awaited."""
    bodies = [json.dumps(p, separators=(",", ":")).encode() for p in part.data]
    ids = [str(uuid.uuid4()) for _ in bodies]
    nc = await nats.connect(part.server)
    try:
        js = nc.jetstream(publish_async_max_pending=ASYNC_PENDING)
        await wait_for(ready, "consumer")
        await js.publish(part.subject, bodies[0], headers={"Nats-Msg-Id": str(uuid.uuid4())})
        await wait_for(warm, "warm-up message at the consumer")
        start = time.time()
        acks = [await js.publish_async(part.subject, body, headers={"Nats-Msg-Id": mid})
                for body, mid in zip(bodies, ids, strict=True)]
        await asyncio.gather(*acks)  # raises if the server refused any
        return start
    finally:
        await nc.close()


async def faststream_consume(part: Part, ready: Signal, warm: Signal) -> float:
    """A durable JetStream subscriber (push, or pull_sub for "pull") taking the pydantic model."""
    from faststream.nats import JStream, NatsBroker, PullSub

    n = len(part.data)
    seen = 0
    last = 0.0
    done = asyncio.Event()
    consumer = NatsBroker(part.server, logger=None)
    extra: dict[str, Any] = (
        {"pull_sub": PullSub(batch_size=FETCH_BATCH, timeout=1.0)} if part.kind == "pull" else {}
    )
    warnings.filterwarnings("ignore", "The JetStream Push consumer", RuntimeWarning)
    stream = JStream(part.stream, subjects=[f"bench.{part.run}.>"])

    @consumer.subscriber(part.subject, stream=stream, durable="faststream", **extra)  # type: ignore[untyped-decorator]
    async def handle(body: ShipmentCreated) -> None:
        nonlocal seen, last
        seen += 1
        if seen == 1:
            warm.set()
        elif seen == n + 1:
            last = time.time()
            done.set()

    await consumer.start()
    try:
        ready.set()
        await done.wait()
    finally:
        await consumer.stop()
    return last


async def faststream_publish(part: Part, ready: Signal, warm: Signal) -> float:
    """FastStream's publisher (awaits each PubAck) from `publishers` concurrent tasks."""
    from faststream.nats import NatsBroker

    n = len(part.data)
    models = [ShipmentCreated.model_validate(p) for p in part.data]
    ids = [str(uuid.uuid4()) for _ in range(n)]
    producer = NatsBroker(part.server, logger=None)
    publisher = producer.publisher(part.subject, stream=part.stream)

    async def publish(k: int) -> None:
        for i in range(k, n, part.publishers):
            await publisher.publish(models[i], headers={"Nats-Msg-Id": ids[i]})

    await producer.start()
    try:
        await wait_for(ready, "consumer")
        await publisher.publish(models[0], headers={"Nats-Msg-Id": str(uuid.uuid4())})
        await wait_for(warm, "warm-up message at the consumer")
        start = time.time()
        await asyncio.gather(*(publish(k) for k in range(part.publishers)))
    finally:
        await producer.stop()
    return start


async def tidings_consume(part: Part, ready: Signal, warm: Signal) -> float:
    """A consumer `EventBus` (its own SQLite log, its own `NatsTransport`) with one remote async
    subscriber; ready once the bus is started (transport open, consumers started)."""
    NatsTransport = nats_transport()
    n = len(part.data)
    consumer = EventBus(tidings_catalog(part.run), store=SQLiteStore(part.folder / f"consumer-{part.run}.db"),
                        transport=NatsTransport(part.server, stream=part.stream))
    seen = 0
    last = 0.0
    done = anyio.Event()

    async def handler(message: Message[ShipmentCreated]) -> None:
        nonlocal seen, last
        seen += 1
        if seen == 1:
            warm.set()
        elif seen == n + 1:
            last = time.time()
            done.set()

    consumer.on("shipmentCreated", handler, mode="async", name="bench")
    async with consumer:
        ready.set()
        await done.wait()
    return last


async def tidings_publish(part: Part, ready: Signal, warm: Signal) -> float:
    """A producer `EventBus` (SQLite outbox, `NatsTransport`), `publishers` tasks awaiting durable
    emits; the process stays until the relay has published every message (`drain()`)."""
    NatsTransport = nats_transport()
    n = len(part.data)
    producer = EventBus(tidings_catalog(part.run), store=SQLiteStore(part.folder / f"producer-{part.run}.db"),
                        transport=NatsTransport(part.server, stream=part.stream))

    async def publish(k: int) -> None:
        for i in range(k, n, part.publishers):
            await producer.emit("shipmentCreated", part.data[i])

    async with producer:
        await wait_for(ready, "consumer")
        await producer.emit("shipmentCreated", part.data[0])
        await wait_for(warm, "warm-up message at the consumer")
        start = time.time()
        async with anyio.create_task_group() as tg:
            for k in range(part.publishers):
                tg.start_soon(publish, k)
        await producer.drain()
    return start


Role = Callable[[Part, Signal, Signal], Awaitable[float]]
ROLES: dict[tuple[str, str], Role] = {
    ("floor", "consume"): floor_consume, ("floor", "publish"): floor_publish,
    ("push", "consume"): faststream_consume, ("push", "publish"): faststream_publish,
    ("pull", "consume"): faststream_consume, ("pull", "publish"): faststream_publish,
    ("tidings", "consume"): tidings_consume, ("tidings", "publish"): tidings_publish,
}


def role_process(role: str, part: Part, ready: Signal, warm: Signal, results: Any) -> None:
    """One half of a part, in its own process: reports ("ok", role, time.time() stamp), or why not."""
    fn = ROLES[part.kind, role]

    async def guarded() -> float:
        with anyio.fail_after(GUARD):
            return await fn(part, ready, warm)

    try:
        results.put(("ok", role, run(guarded)))
    except Unavailable as exc:
        results.put(("unavailable", role, str(exc)))
    except BaseException:
        results.put(("error", role, traceback.format_exc()))


def run_separate(kind: str, data: list[dict[str, Any]], server: str, publishers: int, folder: Path) -> float:
    """Part `kind` with its consumer and its publisher in two processes; messages per second."""
    ctx = multiprocessing.get_context("spawn")
    part = Part(kind, run_id(), server, data, publishers, folder)
    ready, warm, results = ctx.Event(), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=role_process, args=(role, part, ready, warm, results), name=f"{kind}-{role}")
             for role in ("consume", "publish")]
    for proc in procs:
        proc.start()
    stamps: dict[str, float] = {}
    try:
        deadline = time.monotonic() + GUARD + 60
        while len(stamps) < 2:
            try:
                status, role, value = results.get(timeout=1.0)
            except queue.Empty:
                dead = [p.name for p in procs if p.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(f"{', '.join(dead)} died without a report") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{kind}: no result within {GUARD + 60:.0f} s") from None
                continue
            if status == "unavailable":
                raise Unavailable(value)
            if status != "ok":
                raise RuntimeError(f"{kind} {role} failed:\n{value}")
            stamps[role] = value
        for proc in procs:
            proc.join(30)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join()
        run(delete_stream, server, part.stream)
    return len(data) / (stamps["consume"] - stamps["publish"])


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
    parser.add_argument("--one-process", action="store_true",
                        help="run each part's publisher and consumer in this one process (one GIL)"
                             " instead of two processes")
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
        folder = Path(scratch)
        for _ in range(args.runs):
            if args.one_process:
                floor.append(run(run_floor, data, args.server))
                push.append(run(run_faststream, data, args.server, args.publishers, False))
                pull.append(run(run_faststream, data, args.server, args.publishers, True))
            else:
                floor.append(run_separate("floor", data, args.server, args.publishers, folder))
                push.append(run_separate("push", data, args.server, args.publishers, folder))
                pull.append(run_separate("pull", data, args.server, args.publishers, folder))
            if unavailable is None:
                try:
                    if args.one_process:
                        ours.append(run(run_tidings, data, args.server, args.publishers, folder))
                    else:
                        ours.append(run_separate("tidings", data, args.server, args.publishers, folder))
                except Unavailable as exc:
                    unavailable = str(exc)
                if unavailable is None and args.breakdown:
                    halves.append(run(run_tidings_halves, data, args.server, args.publishers, folder))
    print(f"N = {args.messages:,} messages of {size:.0f} bytes JSON each; NATS {version} at {args.server};"
          f" best of {args.runs} runs (all runs in brackets);\n{args.publishers} concurrent publishers for b)"
          " and c); messages/s end to end")
    if args.one_process:
        print("mode: one process (--one-process): each part's publisher and consumer share this Python"
              " process and its GIL\n")
    else:
        print(f"mode: separate processes: each part's publisher and consumer in its own OS process (spawn)"
              f" on {os.cpu_count()} CPUs;\n      N / (consumer's last handled message - publisher's first"
              " publish), after one warm-up message\n")
    print(best_of("a) floor: nats-py JetStream, publish_async + pull consumer", floor))
    print(best_of(f"b) FastStream {fs_version}, push subscriber (its default)", push))
    print(best_of(f"b) FastStream {fs_version}, pull_sub=PullSub({FETCH_BATCH}) (it recommends)", pull))
    if unavailable is not None:
        print(f"c) tidings: not available yet ({unavailable})")
        return
    print(best_of("c) tidings: SQLite outbox -> NATS -> 1 remote async subscriber", ours))
    if halves:
        print("   (--breakdown: each half alone, one after the other, in this process)")
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
