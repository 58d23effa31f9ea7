"""The freight example: every context subscribes, core publishes, and each step is printed.

tasks and core's milestone reader subscribe in `sync` mode (emit waits for them), email, metis
and core's reader of metis's analyses in `async` mode (emit returns at once), salesforce in
`serial` mode (one CRM call at a time, in order). Every message and delivery is kept in an
SQLite event log, printed at the end. `examples.freight.services` runs the same contexts as two
processes over NATS.
"""

from __future__ import annotations

import signal
import sys
import tempfile
from pathlib import Path

if not __package__:  # run as `python examples/freight/app.py`: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[2])

import anyio

from examples.freight import core, email, metis, salesforce, tasks, tracking
from examples.freight._log import deliveries, say
from generated.freight import FreightBus
from tidings.runtime.stores import LogEntry, SQLiteStore


async def settled(bus: FreightBus) -> list[LogEntry]:
    """The event log once no delivery is pending, running or waiting for a retry."""
    assert bus.store is not None
    with anyio.fail_after(30):
        while True:
            await bus.drain()
            await bus.store.flush()
            entries = await bus.store.log()
            if all(d.status in ("succeeded", "dead") for e in entries for d in e.deliveries):
                return entries
            await anyio.sleep(0.05)


async def run(db: Path) -> None:
    """Start a bus on an SQLite log and play the example; SIGTERM or SIGINT stops it gracefully
    (running deliveries finish, the rest stay pending in the log for the next start)."""
    async with FreightBus(store=SQLiteStore(db)) as bus, anyio.create_task_group() as tg:
        tg.start_soon(stop_on_signal, tg.cancel_scope)
        await play(bus, db)
        tg.cancel_scope.cancel()
    say("app", "done")


async def stop_on_signal(scope: anyio.CancelScope) -> None:
    """Cancel `scope` at the first SIGTERM or SIGINT."""
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            say("app", f"{signal.Signals(signum).name}: stopping; unfinished deliveries stay pending")
            scope.cancel()
            return


async def play(bus: FreightBus, db: Path) -> None:
    """Subscribe every context, play a shipment's first hours, print the event log."""
    for context in (core, tasks, email, metis, salesforce, tracking):
        context.subscribe(bus)
    say("app", f"{len(bus.subscribers)} subscribers on {len(bus.catalog.messages)} messages")
    shipment_id = await core.create_shipment(bus)
    await core.upload_document(bus, shipment_id)
    await core.book_and_sell(bus, shipment_id)
    say("app", "all published; waiting for the background deliveries and retries")
    entries = await settled(bus)
    say("app", f"event log in {db}:")
    for entry in entries:
        say("log", f"{entry.message.name}: {deliveries(entry)}")


def main() -> None:
    """Run the example on asyncio (pass `trio` as first argument to use trio) with the event log
    in a fresh temporary directory (or the file given as second argument)."""
    backend = sys.argv[1] if len(sys.argv) > 1 else "asyncio"
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(scratch) / "freight.db"
        anyio.run(run, db, backend=backend)


if __name__ == "__main__":
    main()
