"""The observability guide's shell example, run as a user runs it: `tidings db stats` on a real
SQLite log holding what the page shows (3 messages: 2 deliveries succeeded, 1 dead), and its
output compared line by line with the page."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import anyio

from tests.docs._pages import DOCS, blocks, shell_env
from tests.store.support import CATALOG
from tidings.runtime import EventBus, Message, RetryPolicy, SQLiteStore


def _console_example() -> tuple[str, list[str]]:
    (block,) = [b for b in blocks(DOCS / "guides" / "observability.md")
                if b.lang == "console" and "tidings db stats" in b.text]
    command, *output = block.text.rstrip("\n").splitlines()
    assert command.startswith("$ ")
    return command[2:], output


def _log_as_on_the_page(db: Path) -> None:
    async def handle(message: Message[Any]) -> None:
        await anyio.sleep(0)
        if message.data.shipment_id == 3:
            raise RuntimeError("cannot be handled")

    async def main() -> None:
        bus = EventBus(CATALOG, store=SQLiteStore(db), poll_interval=0.05)
        bus.on("shipmentCreated", handle, mode="async", name="email",
               retry=RetryPolicy(max_attempts=1))
        async with bus:
            for i in (1, 2, 3):
                await bus.publish("shipmentCreated", {"shipmentId": i})
            await bus.drain()

    anyio.run(main)


def test_the_observability_guide_counts_the_log_as_shown(tmp_path: Path) -> None:
    command, shown = _console_example()
    _log_as_on_the_page(tmp_path / "events.db")
    ran = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=shell_env(),
                         capture_output=True, text=True, timeout=120, check=False)
    assert ran.returncode == 0 and not ran.stderr, ran.stderr
    assert ran.stdout.rstrip("\n").splitlines() == shown
