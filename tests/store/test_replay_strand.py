"""Replay never strands a delivery: a stored subscriber the app does not have is refused before
any row changes (in process and through `tidings replay` from another process)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pydantic
import pytest

from tidings.runtime import (
    CatalogSpec,
    EventBus,
    MainModuleNameWarning,
    Message,
    MessageSpec,
    RetryPolicy,
    SQLiteStore,
    UnknownSubscriberError,
)

ROOT = Path(__file__).resolve().parents[2]

SHOP = textwrap.dedent('''
    import os

    import anyio
    import pydantic

    from tidings.runtime import CatalogSpec, EventBus, MessageSpec, RetryPolicy
    from tidings.runtime.stores import SQLiteStore


    class Paid(pydantic.BaseModel):
        orderId: str


    CATALOG = CatalogSpec("shop", {
        "orderPaid": MessageSpec("orderPaid", "event", Paid,
                                 retry=RetryPolicy(max_attempts=1, initial_delay=0.01)),
    })
    bus = EventBus(CATALOG, store=SQLiteStore(os.environ["SHOP_DB"]), poll_interval=0.05)


    def mark_paid(message):
        raise ConnectionError("payments down")


    bus.on("orderPaid", mark_paid, mode="async")


    async def main():
        async with bus:
            message = await bus.publish("orderPaid", {"orderId": "o-1"})
            rows = await bus.settled(message.id, timeout=20)
            print(",".join(f"{row.subscriber}={row.status}" for row in rows))


    if __name__ == "__main__":
        anyio.run(main)
''')


def rows(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT subscriber, status, attempts, next_attempt_at, owner, updated_at FROM deliveries"
        ).fetchall()


def test_replay_failed_of_a_main_module_handler_refuses_and_changes_no_row(tmp_path: Path) -> None:
    (tmp_path / "shop.py").write_text(SHOP)
    db = tmp_path / "shop.db"
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}", "SHOP_DB": str(db),
           "TIDINGS_APP": "", "TIDINGS_DB": ""}
    stored = subprocess.run([sys.executable, "shop.py"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert stored.returncode == 0, stored.stderr
    assert stored.stdout.strip() == "__main__:mark_paid=dead"
    assert "MainModuleNameWarning" in stored.stderr and "name=" in stored.stderr
    before = rows(db)
    assert [r[:2] for r in before] == [("__main__:mark_paid", "dead")]

    replay = subprocess.run([sys.executable, "-m", "tidings", "replay", "--failed", "--app", "shop:bus"],
                            cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert replay.returncode == 2, (replay.stdout, replay.stderr)
    lines = [line for line in replay.stderr.splitlines() if "Warning" not in line and line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), replay.stderr
    assert "Traceback" not in replay.stderr
    for part in ("__main__:mark_paid", "shop:mark_paid", "module:qualname", "name="):
        assert part in lines[0], lines[0]
    assert rows(db) == before  # still dead, same attempts, same timestamps


class Paid(pydantic.BaseModel):
    orderId: str


CATALOG = CatalogSpec("shop", {
    "orderPaid": MessageSpec("orderPaid", "event", Paid,
                             retry=RetryPolicy(max_attempts=1, initial_delay=0.01)),
})


def failing(message: Message[Paid]) -> None:
    raise ConnectionError("payments down")


@pytest.mark.anyio
async def test_replay_refuses_a_subscriber_the_bus_does_not_have(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    first = EventBus(CATALOG, store=SQLiteStore(db), poll_interval=0.05)
    first.on("orderPaid", failing, name="old.mark_paid", mode="async")
    first.on("orderPaid", failing, name="kept.mark_paid", mode="async")
    async with first:
        message = await first.publish("orderPaid", {"orderId": "o-1"})
        await first.settled(message.id, timeout=20)
    before = rows(db)
    assert sorted(r[:2] for r in before) == [("kept.mark_paid", "dead"), ("old.mark_paid", "dead")]

    second = EventBus(CATALOG, store=SQLiteStore(db), poll_interval=0.05)
    second.on("orderPaid", failing, name="kept.mark_paid", mode="async")
    async with second:
        with pytest.raises(UnknownSubscriberError, match=r"old\.mark_paid.*it has: kept\.mark_paid"):
            await second.replay_failed()
        with pytest.raises(UnknownSubscriberError):
            await second.replay(message.id)
        assert rows(db) == before
        replayed = await second.replay_failed(subscriber="kept.mark_paid", timeout=20)
    assert [(r.subscriber, r.status) for r in replayed] == [("kept.mark_paid", "dead")]


def test_a_default_main_module_name_warns_at_on_and_a_pinned_name_does_not(tmp_path: Path) -> None:
    bus = EventBus(CATALOG, store=SQLiteStore(tmp_path / "log.db"))
    failing.__module__ = "__main__"
    try:
        with pytest.warns(MainModuleNameWarning, match=r"'__main__:failing'.*name="):
            bus.on("orderPaid", failing, mode="async")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            bus.on("orderPaid", failing, name="shop.mark_paid", mode="async")
    finally:
        failing.__module__ = __name__
