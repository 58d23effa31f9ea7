"""The freight example: every context subscribes, core publishes, and each step is printed.

tasks and core subscribe in `sync` mode (emit waits for them), email and metis in `async` mode
(emit returns at once), salesforce in `serial` mode (one CRM call at a time, in order).
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as `python examples/freight/app.py`: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[2])

import anyio

from examples.freight import core, email, metis, salesforce, tasks, tracking
from examples.freight._log import say
from generated.freight import FreightBus


async def run() -> None:
    """Start a bus, subscribe every context, and play a shipment's first hours."""
    async with FreightBus() as bus:
        for context in (core, tasks, email, metis, salesforce, tracking):
            context.subscribe(bus)
        say("app", f"{len(bus.subscribers)} subscribers on {len(bus.catalog.messages)} messages")
        shipment_id = await core.create_shipment(bus)
        await core.upload_document(bus, shipment_id)
        await core.book_and_sell(bus, shipment_id)
        say("app", "all published; leaving the bus block waits for background deliveries")
    say("app", "done")


def main() -> None:
    """Run the example on asyncio (pass `trio` as first argument to use trio)."""
    backend = sys.argv[1] if len(sys.argv) > 1 else "asyncio"
    anyio.run(run, backend=backend)


if __name__ == "__main__":
    main()
