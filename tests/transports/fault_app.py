"""The processes of the NATS fault test: a producer that emits N distributed events through its
outbox, and consumers that handle them with random failures, as separate OS processes.

    python -m tests.transports.fault_app produce  CATALOG DB COUNT NATS_URL
    python -m tests.transports.fault_app consume  CATALOG DB OUT

A consumer appends every number it handled to OUT (one line each, flushed), fails a handling at
random (20%, decided by the number and the attempt), and always fails the "poison" numbers
(n % 500 == 7); once the file HEAL next to OUT exists, nothing fails. `bus()` builds the
consumer's bus from the environment (TIDINGS_FAULT_*), for `tidings replay --app`.
"""

from __future__ import annotations

import os
import random
import sqlite3
import sys
from pathlib import Path
from typing import Any

import anyio

from tests.transports.conftest import NATS_URL, catalog
from tidings.runtime import EventBus, Message, RetryPolicy, SQLiteStore
from tidings.runtime.transports import NatsTransport

RETRY = RetryPolicy(max_attempts=4, initial_delay=0.01, max_delay=0.05, jitter=False)
SUBSCRIBER = "metis.read"


def is_poison(n: int) -> bool:
    return n % 500 == 7


def bus() -> EventBus:
    """The consumer's bus, from TIDINGS_FAULT_CATALOG / _DB / _OUT (what `consume` runs)."""
    name, db, out = (os.environ[f"TIDINGS_FAULT_{k}"] for k in ("CATALOG", "DB", "OUT"))
    consumer = EventBus(catalog(name, RETRY), store=SQLiteStore(db), transport=NatsTransport(NATS_URL),
                        lease=3.0)
    handled = Path(out).open("a")  # noqa: SIM115 - open for the life of the process
    heal = Path(out).with_name("HEAL")

    async def read(message: Message[Any]) -> None:
        n = message.data.document_id
        if not heal.exists():
            if is_poison(n):
                raise ValueError(f"document {n} cannot be read")
            if random.Random(f"{n}-{message.attempt}").random() < 0.2:
                raise RuntimeError(f"flaky on {n}, attempt {message.attempt}")
        await anyio.sleep(0)
        handled.write(f"{n}\n")
        handled.flush()

    consumer.on("documentUploaded", read, mode="async", name=SUBSCRIBER)
    return consumer


async def produce(name: str, db: str, count: int, url: str) -> None:
    producer = EventBus(catalog(name, RETRY), store=SQLiteStore(db), transport=NatsTransport(url))
    async with producer:
        async def emit(first: int) -> None:
            for n in range(first, count, 20):
                await producer.emit("documentUploaded", {"documentId": n})

        async with anyio.create_task_group() as tg:
            for first in range(20):
                tg.start_soon(emit, first)
        while unrelayed(db):
            await anyio.sleep(0.1)
    print(f"produced {count}", flush=True)


def unrelayed(db: str) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT count(*) FROM deliveries WHERE status != 'succeeded'").fetchone()
    return int(row[0])


def main(argv: list[str]) -> None:
    if argv[0] == "produce":
        anyio.run(produce, argv[1], argv[2], int(argv[3]), argv[4])
    elif argv[0] == "consume":
        os.environ.update(TIDINGS_FAULT_CATALOG=argv[1], TIDINGS_FAULT_DB=argv[2], TIDINGS_FAULT_OUT=argv[3])
        consumer = bus()
        print("consuming", flush=True)
        anyio.run(consumer.serve)
    else:
        raise SystemExit(f"unknown command {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
