"""Benchmark of the console (a benchmark, not a test) on a large log, SQLite and PostgreSQL.

It bulk-loads a log of N messages with 3 deliveries each (default 1,000,000 / 3,000,000: SQLite
with executemany in one transaction, PostgreSQL with COPY), 10,000 of the deliveries dead, in
threads of 10 messages. Then it starts a real `tidings console --db URL` and times, over HTTP
(so each figure is an upper bound of the server time), p50 of:

- the first page of messages, a filtered page (status=dead), a filtered page by name, a thread;
- baseline: the same reads through the store's own `Store.log(...)` (what `tidings log` runs),
  in the same run;
- replay of the 10,000 dead rows (`POST /api/replay`, one subscriber's dead letters: rows reset
  and the action logged), against the baseline `Store.reset(...)` of the same rows.

    .venv/bin/python benchmarks/console.py [--messages 1000000] [--repeat 30] [--no-pg] [--no-sqlite]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio

from tidings.runtime.stores import PostgresStore, SQLiteStore, Store

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
SUBSCRIBERS = ("audit", "carrier", "crm")
NAMES = ("shipmentCreated", "shipmentBooked", "documentUploaded", "trackingUpdated", "quoteAccepted")
DEAD = 10_000
THREAD = 10
ERROR = "Traceback (most recent call last):\n  File \"carrier.py\", line 1\ncarrier.CarrierDown: refused"


def uuid7(ms: int, rand: random.Random) -> str:
    """A UUIDv7 text for the millisecond `ms` (time-ordered, as the bus makes them)."""
    value = (ms << 80) | (0x7 << 76) | (rand.getrandbits(12) << 64) | (0b10 << 62) | rand.getrandbits(62)
    return str(uuid.UUID(int=value))


def generate(n: int) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """(message row, delivery rows) for n messages: ids/times 1 ms apart ending now, threads of
    THREAD messages each caused by the one before, the carrier deliveries of every n/DEAD-th dead."""
    rand = random.Random(7)
    start = datetime.now(UTC) - timedelta(milliseconds=n)
    start_ms = int(start.timestamp() * 1000)
    dead_every = max(1, n // DEAD)
    correlation = previous = ""
    for i in range(n):
        mid = uuid7(start_ms + i, rand)
        if i % THREAD == 0:
            correlation, previous = mid, ""
        at = start + timedelta(milliseconds=i)
        payload = json.dumps({"shipmentId": f"S-{i}", "reference": f"REF-{i % 9973}", "weightKg": i % 1000})
        message = (mid, NAMES[i % len(NAMES)], 1, payload, at, correlation, previous or None, "bench")
        deliveries = []
        for subscriber in SUBSCRIBERS:
            dead = subscriber == "carrier" and i % dead_every == 0
            deliveries.append((mid, subscriber, "dead" if dead else "succeeded", 3 if dead else 1,
                               ERROR if dead else None, at))
        previous = mid
        yield message, deliveries


def text_time(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}.{value.microsecond:06d}"


SECONDARY = {  # the stores' secondary indexes: dropped for the bulk load, built again after it
    "messages_correlation_id": "messages (correlation_id)",
    "deliveries_status": "deliveries (status, updated_at)",
    "deliveries_status_message": "deliveries (status, message_id)",
    "messages_name_id": "messages (name, id)",
}


def load_sqlite(path: Path, n: int) -> None:
    async def schema() -> None:
        async with SQLiteStore(path):
            pass

    anyio.run(schema)
    conn = sqlite3.connect(path, isolation_level=None)
    for index in SECONDARY:
        conn.execute(f"DROP INDEX {index}")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -400000")
    conn.execute("BEGIN")
    messages: list[tuple[Any, ...]] = []
    deliveries: list[tuple[Any, ...]] = []

    def flush() -> None:
        conn.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)", messages)
        conn.executemany(
            "INSERT INTO deliveries (message_id, subscriber, status, attempts, last_error, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)", deliveries)
        messages.clear()
        deliveries.clear()

    for m, ds in generate(n):
        messages.append((*m[:4], text_time(m[4]), *m[5:]))
        deliveries.extend((*d[:5], text_time(d[5])) for d in ds)
        if len(messages) >= 50_000:
            flush()
    flush()
    conn.execute("COMMIT")
    for index, columns in SECONDARY.items():
        conn.execute(f"CREATE INDEX {index} ON {columns}")
    # No ANALYZE: tidings never runs it, and with its statistics SQLite's planner takes an index
    # on `status` (five values) for unselective and scans every delivery to reset ten thousand.
    conn.close()


def load_postgres(schema: str, n: int) -> None:
    import psycopg

    async def create() -> None:
        async with PostgresStore(PG_DSN, schema=schema):
            pass

    anyio.run(create)
    with psycopg.connect(PG_DSN, options=f"-c search_path={schema}") as conn:
        with conn.cursor() as cur:
            for index in SECONDARY:
                cur.execute(f"DROP INDEX {index}")  # type: ignore[arg-type]
            with cur.copy("COPY messages (id, name, version, payload, emitted_at, correlation_id,"
                          " causation_id, producer) FROM STDIN") as copy_messages:
                pending: list[list[tuple[Any, ...]]] = []
                for m, ds in generate(n):
                    copy_messages.write_row(m)
                    pending.append(ds)
            with cur.copy("COPY deliveries (message_id, subscriber, status, attempts, last_error,"
                          " updated_at) FROM STDIN") as copy_deliveries:
                for ds in pending:
                    for d in ds:
                        copy_deliveries.write_row(d)
            for index, columns in SECONDARY.items():
                cur.execute(f"CREATE INDEX {index} ON {columns}")  # type: ignore[arg-type]
        conn.commit()
    with psycopg.connect(PG_DSN, autocommit=True, options=f"-c search_path={schema}") as conn:
        conn.execute("VACUUM ANALYZE messages")
        conn.execute("VACUUM ANALYZE deliveries")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(fn: Callable[[], object], repeat: int) -> float:
    """p50 of `fn` in ms (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def store_timed(store: Store, call: Callable[[Store], Awaitable[object]], repeat: int) -> float:
    async def run() -> float:
        async with store:
            await call(store)
            samples = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                await call(store)
                samples.append((time.perf_counter() - t0) * 1000)
            return statistics.median(samples)

    return anyio.run(run)


SERVER_MS: list[float] = []
"""The `Server-Timing` of each request `http` made (the console's own time, without the client)."""


def http(url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> bytes:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=60) as response:
        timing = response.headers.get("server-timing", "")
        if "dur=" in timing:
            SERVER_MS.append(float(timing.split("dur=")[1]))
        return bytes(response.read())


def server_timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """p50 of `fn` over HTTP and p50 of the console's Server-Timing, in ms."""
    SERVER_MS.clear()
    fn()
    SERVER_MS.clear()
    total = timed_once(fn, repeat)
    return total, statistics.median(SERVER_MS)


def timed_once(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def bench(kind: str, url: str, store: Callable[[], Store], kill_dead: Callable[[], None],
          repeat: int) -> None:
    port = free_port()
    console = subprocess.Popen([str(Path(sys.executable).parent / "tidings"), "console", "--db", url,
                                "--port", str(port)], stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                http(base + "/api/session")
                break
            except OSError:
                time.sleep(0.1)
        first = json.loads(http(base + "/api/messages?limit=50"))["messages"]
        middle = json.loads(http(base + "/api/messages?limit=50&before=" + first[-1]["id"]))["messages"]
        correlation = middle[25]["correlation_id"]
        figures = {
            "first page (HTML)": (lambda: http(base + "/"), lambda s: s.log(limit=50)),
            "first page (API)": (lambda: http(base + "/api/messages?limit=50"), lambda s: s.log(limit=50)),
            "filtered: status=dead": (lambda: http(base + "/?status=dead"),
                                      lambda s: s.log(status="dead", limit=50)),
            "filtered: name": (lambda: http(base + "/?name=quoteAccepted"),
                               lambda s: s.log(name="quoteAccepted", limit=50)),
            "thread": (lambda: http(base + f"/threads/{correlation}"),
                       lambda s: s.log(correlation_id=uuid.UUID(correlation), limit=50)),
        }
        print(f"\n{kind}: p50 ms over {repeat} requests: the console's server time (Server-Timing),"
              " the round trip over HTTP, and the baseline Store.log(...) in-process")
        for label, (page, baseline) in figures.items():
            trip, server = server_timed(page, repeat)
            floor = store_timed(store(), baseline, repeat)
            verdict = "ok" if server <= 50 else "OVER 50 ms"
            print(f"  {label:<24} server {server:7.1f}  HTTP {trip:7.1f}   Store.log {floor:7.1f}"
                  f"   ratio server/Store.log {server / floor:5.2f}  {verdict}")
        trip, server = server_timed(lambda: http(base + "/api/counts"), 5)
        print(f"  {'counts per status':<24} server {server:7.1f}  HTTP {trip:7.1f}"
              "   (a fragment beside the page)")
        csrf = json.loads(http(base + "/api/session"))["csrf"]
        t0 = time.perf_counter()
        job = json.loads(http(base + "/api/replay", {"kind": "subscriber", "subscriber": "carrier",
                                                    "who": "bench"}, {"X-CSRF-Token": csrf}))
        ours = time.perf_counter() - t0
        rows = len(json.loads(http(base + f"/api/jobs/{job['id']}"))["deliveries"])
        replayed = sum(job["counts"].values())
        kill_dead()

        async def reset() -> float:
            async with store() as s:
                t = time.perf_counter()
                keys = await s.reset(subscriber="carrier", statuses=("dead",))
                assert len(keys) == replayed, (len(keys), replayed)
                return time.perf_counter() - t

        floor = anyio.run(reset)
        verdict = "ok" if ours <= 2 else "OVER 2 s"
        print(f"  replay {replayed} dead rows   console {ours:6.2f} s   Store.reset {floor:6.2f} s   ratio"
              f" {ours / floor:5.2f}  {verdict} ({rows} listed in the job)")
    finally:
        console.terminate()
        console.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    n = args.messages
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "big.db"
            t0 = time.perf_counter()
            load_sqlite(path, n)
            print(f"SQLite: loaded {n:,} messages / {3 * n:,} deliveries in {time.perf_counter() - t0:.0f} s")

            def sqlite_dead() -> None:
                with sqlite3.connect(path) as conn:
                    conn.execute("UPDATE deliveries SET status = 'dead' WHERE subscriber = 'carrier'"
                                 " AND last_error IS NOT NULL")

            bench("SQLite", str(path), lambda: SQLiteStore(path), sqlite_dead, args.repeat)
    if not args.no_pg:
        import psycopg

        schema = f"bench_console_{os.getpid()}"
        try:
            t0 = time.perf_counter()
            load_postgres(schema, n)
            took = time.perf_counter() - t0
            print(f"PostgreSQL: loaded {n:,} messages / {3 * n:,} deliveries in {took:.0f} s")

            def pg_dead() -> None:
                with psycopg.connect(PG_DSN, autocommit=True, options=f"-c search_path={schema}") as conn:
                    conn.execute("UPDATE deliveries SET status = 'dead' WHERE subscriber = 'carrier'"
                                 " AND last_error IS NOT NULL")

            bench("PostgreSQL", f"{PG_DSN}?schema={schema}", lambda: PostgresStore(PG_DSN, schema=schema),
                  pg_dead, args.repeat)
        finally:
            with psycopg.connect(PG_DSN, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
