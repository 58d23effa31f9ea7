"""The process of the poison-message restart test: a bus on a real store whose one subscriber
ends every attempt in a `BaseException` (KeyboardInterrupt, SystemExit or a custom one).

    python -m tests.faults.poison_app ASYNC_BACKEND STORE KIND MODE COUNT WORKDIR

STORE is `sqlite:PATH` or `postgres:SCHEMA`; KIND is `KeyboardInterrupt`, `SystemExit` or
`Poison`; MODE the subscriber's mode. The first start publishes COUNT messages (and leaves
WORKDIR/published); every start then waits until their deliveries succeeded or went dead, and
exits. Each attempt the handler begins is appended to WORKDIR/attempts as `shipment attempt`
(flushed) before it raises.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import anyio

from tests.store.support import CATALOG, PG_DSN
from tidings.runtime import EventBus, Message, Mode, PostgresStore, RetryPolicy, SQLiteStore
from tidings.runtime.stores import Store

RETRY = RetryPolicy(max_attempts=3, initial_delay=0.01, max_delay=0.02, jitter=False)


class Poison(BaseException):
    """Not an Exception: what a careless library might raise."""


def _store(spec: str) -> Store:
    kind, _, where = spec.partition(":")
    if kind == "sqlite":
        return SQLiteStore(where)
    return PostgresStore(PG_DSN, schema=where)


def _raise(kind: str) -> None:
    if kind == "KeyboardInterrupt":
        raise KeyboardInterrupt("poison")
    if kind == "SystemExit":
        raise SystemExit(3)
    raise Poison("poison")


async def main(spec: str, kind: str, mode: Mode, count: int, workdir: Path) -> None:
    attempts = (workdir / "attempts").open("a")  # open for the life of the process

    async def handler(message: Message[Any]) -> None:
        attempts.write(f"{message.data.shipment_id} {message.attempt}\n")
        attempts.flush()
        await anyio.sleep(0)
        _raise(kind)

    bus = EventBus(CATALOG, store=_store(spec), poll_interval=0.05, lease=30.0)
    bus.on("shipmentCreated", handler, mode=mode, name="poisoned", retry=RETRY)
    published = workdir / "published"
    async with bus:
        if not published.exists():
            published.touch()
            for n in range(count):
                await bus.publish("shipmentCreated", {"shipmentId": n})  # raises in sync mode
        assert bus.store is not None
        entries = await bus.store.log(name="shipmentCreated")
        rows = await bus.settled([(e.message.id, "poisoned") for e in entries], timeout=15)
        print("settled:", [(r.status, r.attempts) for r in rows], flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    backend, spec, kind, mode, count, workdir = sys.argv[1:7]
    assert mode in ("sync", "async", "serial"), mode
    anyio.run(main, spec, kind, mode, int(count), Path(workdir), backend=backend)
