"""Benchmark of the event log (issue 4's figures; a benchmark, not a test).

For SQLite (a WAL file, synchronous=NORMAL) and PostgreSQL (127.0.0.1:5432, db test), in one run:

- the floor: the store's raw batched insert rate of message rows (executemany in batches of
  1,000 on SQLite; COPY in batches of 1,000 on PostgreSQL; one commit per batch);
- ours: persisted emit + deliver throughput (messages/s) with 100 concurrent publishers and one
  async subscriber, until every delivery is recorded `succeeded`;
- the ratio ours / floor (the issue's goal: >= 0.5);
- p50/p99 latency of one publisher's durable `await emit` (the message is committed when it returns).

    .venv/bin/python benchmarks/event_log.py [--messages 20000] [--latency 2000] [--dsn DSN] [--no-pg]
                                             [--otel]

With --otel, every bus is traced and measured (`tidings.otel.instrument()` with the
OpenTelemetry SDK's providers: spans recorded but not exported, metrics into an in-memory
reader), which shows what tracing costs; without it, telemetry is off.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pydantic

from tidings.runtime import CatalogSpec, EventBus, Message, MessageSpec
from tidings.runtime.stores import PostgresStore, SQLiteStore, Store

BATCH = 1_000
PUBLISHERS = 100


class ShipmentCreated(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(populate_by_name=True)
    shipment_id: str = pydantic.Field(alias="shipmentId")
    reference: str


CATALOG = CatalogSpec("bench", {"shipmentCreated": MessageSpec("shipmentCreated", "event", ShipmentCreated)})


def rows(n: int) -> list[tuple[Any, ...]]:
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        mid = uuid.uuid4()
        payload = json.dumps({"shipmentId": str(uuid.uuid4()), "reference": f"REF-{i}"})
        out.append((mid, "shipmentCreated", 1, payload, now, mid, None, "bench"))
    return out


def sqlite_floor(path: Path, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "CREATE TABLE messages (id TEXT PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL,"
        " payload TEXT NOT NULL, emitted_at TEXT NOT NULL, correlation_id TEXT NOT NULL,"
        " causation_id TEXT, producer TEXT)"
    )
    data = [(str(r[0]), r[1], r[2], r[3], r[4].strftime("%Y-%m-%d %H:%M:%S.%f"), str(r[5]), r[6], r[7])
            for r in rows(n)]
    start = time.perf_counter()
    for i in range(0, n, BATCH):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)", data[i:i + BATCH])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def pg_floor(dsn: str, schema: str, n: int) -> float:
    import psycopg

    data = rows(n)
    with psycopg.connect(dsn) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')  # type: ignore[arg-type]
        conn.execute(
            f'CREATE TABLE "{schema}".messages (id uuid PRIMARY KEY, name text NOT NULL,'  # type: ignore[arg-type]
            " version integer NOT NULL, payload jsonb NOT NULL, emitted_at timestamptz NOT NULL,"
            " correlation_id uuid NOT NULL, causation_id uuid, producer text)"
        )
        conn.commit()
        start = time.perf_counter()
        for i in range(0, n, BATCH):
            with conn.cursor() as cur, cur.copy(f'COPY "{schema}".messages FROM STDIN') as copy:  # type: ignore[arg-type]
                for row in data[i:i + BATCH]:
                    copy.write_row(row)
            conn.commit()
        elapsed = time.perf_counter() - start
    return n / elapsed


async def throughput(make_store: Callable[[], Store], n: int) -> float:
    bus = EventBus(CATALOG, store=make_store())
    handled = 0

    async def subscriber(message: Message[ShipmentCreated]) -> None:
        nonlocal handled
        handled += 1

    bus.on("shipmentCreated", subscriber, name="bench", mode="async")
    payloads = [{"shipmentId": str(uuid.uuid4()), "reference": f"REF-{i}"} for i in range(n)]

    async def publisher(k: int) -> None:
        for i in range(k, n, PUBLISHERS):
            await bus.emit("shipmentCreated", payloads[i])

    async with bus:
        start = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for k in range(PUBLISHERS):
                tg.start_soon(publisher, k)
        await bus.drain()
        assert bus.store is not None
        await bus.store.flush()
        elapsed = time.perf_counter() - start
    assert handled == n
    return n / elapsed


async def latency(make_store: Callable[[], Store], n: int) -> tuple[float, float]:
    bus = EventBus(CATALOG, store=make_store())

    async def subscriber(message: Message[ShipmentCreated]) -> None:
        pass

    bus.on("shipmentCreated", subscriber, name="bench", mode="async")
    times = []
    async with bus:
        for i in range(n):
            start = time.perf_counter()
            await bus.emit("shipmentCreated", {"shipmentId": str(uuid.uuid4()), "reference": f"R{i}"})
            times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times) * 1e3, times[int(len(times) * 0.99)] * 1e3


def report(name: str, floor: float, ours: float, lat: tuple[float, float]) -> float:
    print(f"{name}:")
    print(f"  floor (raw batched insert of message rows): {floor:12,.0f} rows/s")
    print(f"  ours (emit+store+deliver, {PUBLISHERS} publishers, 1 async subscriber): {ours:12,.0f} msg/s")
    print(f"  ratio ours/floor: {ours / floor:.3f} (goal >= 0.5)")
    print(f"  durable await emit, 1 publisher: p50 {lat[0]:.3f} ms, p99 {lat[1]:.3f} ms")
    return ours / floor


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--latency", type=int, default=2_000)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--otel", action="store_true", help="trace and measure every bus")
    args = parser.parse_args()
    if args.otel:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider

        import tidings.otel

        tidings.otel.instrument(tracer_provider=TracerProvider(),
                                meter_provider=MeterProvider(metric_readers=[InMemoryMetricReader()]))
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        floor = sqlite_floor(folder / "floor.db", args.messages)
        ours = anyio.run(throughput, lambda: SQLiteStore(folder / "ours.db"), args.messages)
        lat = anyio.run(latency, lambda: SQLiteStore(folder / "latency.db"), args.latency)
        ratios = {"SQLite": report("SQLite", floor, ours, lat)}
    if args.no_pg:
        return
    import psycopg

    schemas = [f"bench_{uuid.uuid4().hex[:10]}" for _ in range(3)]
    try:
        floor = pg_floor(args.dsn, schemas[0], args.messages)
        ours = anyio.run(throughput, lambda: PostgresStore(args.dsn, schema=schemas[1]), args.messages)
        lat = anyio.run(latency, lambda: PostgresStore(args.dsn, schema=schemas[2]), args.latency)
        ratios["PostgreSQL"] = report("PostgreSQL", floor, ours, lat)
        print("ratios ours/floor (goal >= 0.5 for both): "
              + ", ".join(f"{name} {ratio:.3f}" for name, ratio in ratios.items()))
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
