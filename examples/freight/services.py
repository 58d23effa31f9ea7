"""The freight example as two services over NATS: core (with tasks, email, tracking and
salesforce in its process) and metis, each with its own SQLite event log.

    python -m examples.freight.services metis &                        # serves until SIGTERM/SIGINT
    python -m examples.freight.services core --count 3 --exit-when-done

Each process's bus has a `NatsTransport`: what core emits of metis's messages (`documentUploaded`,
`METIS_AnalyzeDocumentCommand`) goes to NATS through core's outbox, metis takes it from its
durable consumers, and the `documentAnalyzed` it emits comes back the same way to core's.

Settings come from the options, else from `FREIGHT_DIR` (where `core.db` and `metis.db` live,
default `.`), `FREIGHT_NATS` (default `nats://127.0.0.1:4222`) and `FREIGHT_NAMESPACE` (the
catalog's name on the wire: subjects `tidings.<namespace>.<message>`, stream
`TIDINGS_<NAMESPACE>`; default `freight`). `core_bus` and `metis_bus` build the same buses from
those variables, for the CLI: `tidings replay ID --app examples.freight.services:metis_bus`.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import anyio

from examples.freight import core, email, metis, salesforce, tasks, tracking
from examples.freight._log import deliveries, say
from generated.freight import FreightBus
from tidings.runtime.stores import SQLiteStore
from tidings.runtime.transports import NatsTransport, wire_name

Service = Literal["core", "metis"]
"""The two services of the example."""
KINDS: tuple[Literal["bill_of_lading", "commercial_invoice", "packing_list"], ...] = (
    "bill_of_lading", "commercial_invoice", "packing_list",
)
"""The kinds of the documents core uploads, in turn (metis's fast model is unsure of invoices)."""
PREFIX = {"bill_of_lading": "BL", "commercial_invoice": "INV", "packing_list": "PL"}
"""The file name prefix of each kind of document."""


@dataclass(frozen=True)
class Settings:
    """Where a service keeps its log and finds NATS."""

    directory: Path
    """The directory of `core.db` and `metis.db`."""
    nats: str
    """The NATS server URL."""
    namespace: str
    """The catalog's name on the wire (subjects `tidings.<namespace>.>`)."""

    @classmethod
    def from_environment(cls) -> Settings:
        """`FREIGHT_DIR`, `FREIGHT_NATS` and `FREIGHT_NAMESPACE`, or their defaults."""
        return cls(
            Path(os.environ.get("FREIGHT_DIR", ".")),
            os.environ.get("FREIGHT_NATS", "nats://127.0.0.1:4222"),
            os.environ.get("FREIGHT_NAMESPACE", "freight"),
        )

    def db(self, service: Service) -> Path:
        """The SQLite event log of `service`."""
        return self.directory / f"{service}.db"


class NamespacedNats(NatsTransport):
    """A `NatsTransport` that carries the catalog under another name on the wire: subjects
    `tidings.<namespace>.<message>` on the stream `TIDINGS_<NAMESPACE>`, so several copies of the
    example (tests, say) share one NATS server without meeting (two streams cannot hold one
    subject)."""

    def __init__(self, servers: str, namespace: str, **options: Any) -> None:
        super().__init__(servers, **options)
        self.namespace = namespace

    async def open(self, catalog: str) -> None:
        """Open under the namespace instead of the catalog's name."""
        await super().open(self.namespace)


def transport(settings: Settings) -> NatsTransport:
    """The bus's NATS transport (plain `NatsTransport` under the catalog's own name)."""
    if settings.namespace == "freight":
        return NatsTransport(settings.nats)
    return NamespacedNats(settings.nats, settings.namespace)


def build(service: Service, settings: Settings) -> FreightBus:
    """The bus of `service`, on its own SQLite log and NATS, with its contexts subscribed."""
    settings.directory.mkdir(parents=True, exist_ok=True)
    bus = FreightBus(store=SQLiteStore(settings.db(service)), transport=transport(settings))
    contexts = (core, tasks, email, tracking, salesforce) if service == "core" else (metis,)
    for context in contexts:
        context.subscribe(bus)
    return bus


def core_bus() -> FreightBus:
    """core's bus, configured from the environment (for `tidings replay --app`)."""
    return build("core", Settings.from_environment())


def metis_bus() -> FreightBus:
    """metis's bus, configured from the environment (for `tidings replay --app`)."""
    return build("metis", Settings.from_environment())


def introduce(service: Service, bus: FreightBus, settings: Settings) -> None:
    """Say where the service logs, which stream it uses and which subscribers come from NATS."""
    stream = bus.transport.stream_name if isinstance(bus.transport, NatsTransport) else "?"
    say(service, f"event log {settings.db(service)}; NATS {settings.nats}, stream {stream}")
    for subscriber in bus.subscribers.values():
        if subscriber.remote:
            say(service, f"{subscriber.name} takes {', '.join(subscriber.names)} from NATS"
                         f" (durable consumer {wire_name(subscriber.name)})")


async def report(service: Service, bus: FreightBus, since: datetime) -> None:
    """Print the messages whose deliveries changed since `since`, as the event log has them."""
    assert bus.store is not None
    await bus.store.flush()
    entries = await bus.store.log(limit=100_000)
    shown = [e for e in entries if any(d.updated_at >= since for d in e.deliveries)]
    say(service, f"event log {bus.store}: {len(shown)} messages this run")
    for entry in shown:
        say("log", f"{entry.message.name} {entry.message.id}: {deliveries(entry)}")


async def settled(bus: FreightBus) -> bool:
    """True when no delivery of the log is pending, running or waiting for a retry."""
    assert bus.store is not None
    await bus.store.flush()
    for status in ("pending", "running", "failed"):
        if await bus.store.log(status=status, limit=1):
            return False
    return True


async def run_core(settings: Settings, count: int, exit_when_done: bool) -> None:
    """Upload `count` documents, wait until metis has read each one well enough (and every
    delivery of the log is settled), print the log; then exit or serve until signalled."""
    since = datetime.now(UTC)
    bus = build("core", settings)
    async with bus, anyio.create_task_group() as tg:
        tg.start_soon(stop_on_signal, "core", tg.cancel_scope)
        introduce("core", bus, settings)
        shipment_id = await core.create_shipment(bus)
        for number in range(1, count + 1):
            kind = KINDS[(number - 1) % len(KINDS)]
            await core.upload_document(bus, shipment_id, f"{PREFIX[kind]}-{number:04}.pdf", kind)
        say("core", f"documents uploaded: {count}; waiting for metis's analyses over NATS")
        while not (core.documents.all_read() and await settled(bus)):
            await anyio.sleep(0.1)
        say("core", f"every document read: {len(core.documents.read)} of {count}")
        await report("core", bus, since)
        if not exit_when_done:
            say("core", "serving until SIGTERM or SIGINT")
            await anyio.sleep_forever()
        tg.cancel_scope.cancel()
    say("core", "stopped")


async def run_metis(settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT, then print what this run did and stop gracefully."""
    since = datetime.now(UTC)
    bus = build("metis", settings)
    async with bus:
        introduce("metis", bus, settings)
        say("metis", "serving until SIGTERM or SIGINT")
        await bus.serve()
        await report("metis", bus, since)
    say("metis", "stopped")


async def stop_on_signal(service: Service, scope: anyio.CancelScope) -> None:
    """Cancel `scope` at the first SIGTERM or SIGINT (the bus then shuts down gracefully)."""
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            say(service, f"{signal.Signals(signum).name}: stopping; unfinished deliveries stay pending")
            scope.cancel()
            return


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line (see the module's docstring)."""
    defaults = Settings.from_environment()
    parser = argparse.ArgumentParser(prog="python -m examples.freight.services", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("service", choices=["core", "metis"])
    parser.add_argument("--nats", default=defaults.nats, help="NATS server URL (default: %(default)s)")
    parser.add_argument("--dir", type=Path, default=defaults.directory,
                        help="directory of core.db and metis.db (default: %(default)s)")
    parser.add_argument("--namespace", default=defaults.namespace,
                        help="the catalog's name on the wire (default: %(default)s)")
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    parser.add_argument("--count", type=int, default=3, help="core: documents to upload (default: 3)")
    parser.add_argument("--exit-when-done", action="store_true",
                        help="core: exit once every document is read, instead of serving until signalled")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the service the command line names."""
    options = parse(argv)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    settings = Settings(options.dir, options.nats, options.namespace)
    if options.service == "core":
        anyio.run(run_core, settings, options.count, options.exit_when_done, backend=options.backend)
    else:
        anyio.run(run_metis, settings, backend=options.backend)


if __name__ == "__main__":
    main()
