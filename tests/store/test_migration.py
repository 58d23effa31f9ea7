"""Schema version 2 (`messages.traceparent`) on an event log that version 1 wrote and filled: a
real SQLite file and a real PostgreSQL schema, migrated by `tidings db upgrade` as a subprocess.
The v1 tables below are frozen copies of what tidings 0.1 created (not read from the code)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_service
from tests.store.support import CATALOG, PG_DSN
from tidings.runtime import EventBus, Message
from tidings.runtime.stores import open_store

ROOT = Path(__file__).resolve().parents[2]

V1_TABLES = (
    """CREATE TABLE messages (
        id {uuid} PRIMARY KEY, name {text} NOT NULL, version integer NOT NULL,
        payload {json} NOT NULL, emitted_at {time} NOT NULL, correlation_id {uuid} NOT NULL,
        causation_id {uuid}, producer {text})""",
    "CREATE INDEX messages_correlation_id ON messages (correlation_id)",
    """CREATE TABLE deliveries (
        id {serial} PRIMARY KEY, message_id {uuid} NOT NULL REFERENCES messages (id),
        subscriber {text} NOT NULL,
        status {text} NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'dead')),
        attempts integer NOT NULL DEFAULT 0, last_error {text}, next_attempt_at {time}, owner {text},
        lease_until {time}, updated_at {time} NOT NULL, UNIQUE (message_id, subscriber))""",
    "CREATE INDEX deliveries_status ON deliveries (status, updated_at)",
    "CREATE TABLE tidings_schema (version integer NOT NULL)",
    "INSERT INTO tidings_schema (version) VALUES (1)",
)
SQLITE_TYPES = {"uuid": "TEXT", "text": "TEXT", "json": "TEXT", "time": "TEXT", "serial": "INTEGER"}
PG_TYPES = {"uuid": "uuid", "text": "text", "json": "jsonb", "time": "timestamptz",
            "serial": "bigint GENERATED ALWAYS AS IDENTITY"}
DONE, FAILED = uuid.UUID(int=1), uuid.UUID(int=2)


def tidings(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TIDINGS_DB": "", "TIDINGS_APP": ""}
    return subprocess.run([sys.executable, "-m", "tidings", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def fill(execute: Callable[[str, tuple[Any, ...]], None], time: Callable[[datetime], Any]) -> None:
    """Two v1 messages: one delivered, one whose delivery failed and is due again."""
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    for message_id, status in ((DONE, "succeeded"), (FAILED, "failed")):
        execute("INSERT INTO messages (id, name, version, payload, emitted_at, correlation_id,"
                " causation_id, producer) VALUES (?, 'shipmentCreated', 1, ?, ?, ?, NULL, 'core')",
                (str(message_id), json.dumps({"shipmentId": message_id.int}), time(at), str(message_id)))
        execute("INSERT INTO deliveries (message_id, subscriber, status, attempts, last_error,"
                " next_attempt_at, updated_at) VALUES (?, 'tasks.open', ?, 1, ?, ?, ?)",
                (str(message_id), status, None if status == "succeeded" else "ConnectionError: down",
                 None if status == "succeeded" else time(at), time(at)))


@pytest.fixture(params=["sqlite", "postgres"])
def v1_log(request: pytest.FixtureRequest, tmp_path: Path
           ) -> Iterator[tuple[str, Callable[[str], list[Any]]]]:
    """The URL of a filled version-1 event log, and a query function on it."""
    if request.param == "sqlite":
        path = tmp_path / "v1.db"
        with sqlite3.connect(path) as conn:
            for statement in V1_TABLES:
                conn.execute(statement.format(**SQLITE_TYPES))
            fill(lambda sql, params: conn.execute(sql, params), lambda t: f"{t:%Y-%m-%d %H:%M:%S}.000000")

        def query_sqlite(sql: str) -> list[Any]:
            with sqlite3.connect(path) as conn:
                return conn.execute(sql).fetchall()

        yield str(path), query_sqlite
        return
    require_service("PostgreSQL", "127.0.0.1", 5432)
    import psycopg

    schema = f"v1_{uuid.uuid4().hex[:12]}"
    options = f"-c search_path={schema}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')  # type: ignore[arg-type]
    with psycopg.connect(PG_DSN, autocommit=True, options=options) as conn:
        for statement in V1_TABLES:
            conn.execute(statement.format(**PG_TYPES))  # type: ignore[arg-type]
        fill(lambda sql, params: conn.execute(sql.replace("?", "%s"), params),  # type: ignore[arg-type]
             lambda t: t)

    def query_pg(sql: str) -> list[Any]:
        with psycopg.connect(PG_DSN, autocommit=True, options=options) as conn:
            return conn.execute(sql).fetchall()  # type: ignore[arg-type]

    try:
        yield f"{PG_DSN}?schema={schema}", query_pg
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # type: ignore[arg-type]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_db_upgrade_migrates_a_filled_v1_log(v1_log: tuple[str, Callable[[str], list[Any]]],
                                                   anyio_backend: str) -> None:
    url, query = v1_log
    refused = tidings("log", "--db", url)
    assert refused.returncode == 2 and "tidings db upgrade" in refused.stderr, refused.stderr
    assert "schema version 1, older than 2" in refused.stderr
    not_counted = tidings("db", "stats", "--db", url)
    assert not_counted.returncode == 2 and "tidings db upgrade" in not_counted.stderr

    upgraded = tidings("db", "upgrade", "--db", url)
    assert upgraded.returncode == 0 and upgraded.stdout.rstrip().endswith("schema version 2"), upgraded
    assert sorted(r[0] for r in query("SELECT version FROM tidings_schema")) == [1, 2]
    assert sorted((str(r[0]), r[1]) for r in query("SELECT id, traceparent FROM messages")) == [
        (str(DONE), None), (str(FAILED), None)]
    again = tidings("db", "upgrade", "--db", url)
    assert again.returncode == 0
    assert sorted(r[0] for r in query("SELECT version FROM tidings_schema")) == [1, 2]

    shown = tidings("log", "--db", url, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert sorted((e["id"], e["payload"], [d["status"] for d in e["deliveries"]])
                  for e in json.loads(shown.stdout)) == [(str(DONE), {"shipmentId": 1}, ["succeeded"]),
                                                   (str(FAILED), {"shipmentId": 2}, ["failed"])]

    counted = tidings("db", "stats", "--db", url, "--format", "json")
    assert counted.returncode == 0, counted.stderr
    stats = json.loads(counted.stdout)
    assert (stats["messages"], stats["deliveries"]["succeeded"], stats["deliveries"]["failed"]) == (2, 1, 1)
    assert stats["oldest_pending"] == "2026-11-30T09:00:00+00:00"

    # The v1 message that failed runs again on a bus of this version, from the migrated log.
    seen: list[Message[Any]] = []
    bus = EventBus(CATALOG, store=open_store(url), poll_interval=0.02)
    bus.on("shipmentCreated", seen.append, mode="async", name="tasks.open")
    async with bus:
        [row] = await bus.settled([(FAILED, "tasks.open")], timeout=30)
    assert row.status == "succeeded" and row.attempts == 2
    assert [(m.id, m.data.shipment_id, m.traceparent) for m in seen] == [(FAILED, 2, None)]
