"""Two services of one trace, for tests/otel/test_two_processes.py: run as
`python -m tests.otel.trace_app core|metis --transport nats|sns-sqs --catalog NAME --dir DIR
[--endpoint URL] [--backend asyncio|trio]`.

core, inside a `POST /documents` span, emits `documentUploaded`; metis reads it from the broker
and emits `documentAnalyzed`, which core reads back; then metis replays its delivery of the
upload (a new trace, linked to the original), which sends a second analysis. Each process
records its spans with the OpenTelemetry SDK's in-memory exporter and writes them, as
`span.to_json()` objects, to DIR/<role>.spans.json when done; it prints `ready` once its bus
consumes and `done` at the end.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import anyio
import pydantic
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tidings.otel
from tidings.runtime import CatalogSpec, EventBus, Message, MessageSpec, RetryPolicy
from tidings.runtime.stores import SQLiteStore
from tidings.runtime.transports import NatsTransport, SnsSqsTransport, Transport

FAST = RetryPolicy(max_attempts=3, initial_delay=0.05, max_delay=0.2, jitter=False)
TIMEOUT = 90.0


class Document(pydantic.BaseModel):
    document_id: int


def catalog(name: str) -> CatalogSpec:
    return CatalogSpec(name, {
        "documentUploaded": MessageSpec("documentUploaded", "event", Document, retry=FAST, distributed=True),
        "documentAnalyzed": MessageSpec("documentAnalyzed", "event", Document, retry=FAST, distributed=True),
    })


def transport(args: argparse.Namespace) -> Transport:
    if args.transport == "nats":
        return NatsTransport("nats://127.0.0.1:4222", fetch_timeout=0.5)
    return SnsSqsTransport(endpoint_url=args.endpoint, wait_time=1, prefix=args.catalog,
                           client_kwargs={"aws_access_key_id": "testing", "aws_secret_access_key": "testing"})


async def core(bus: EventBus, tracer: Any) -> None:
    analyses: list[Message[Any]] = []
    two = anyio.Event()

    def note(message: Message[Any]) -> None:
        analyses.append(message)
        if len(analyses) == 2:
            two.set()

    bus.on("documentAnalyzed", note, mode="async", name="core:note-analysis")
    async with bus:
        print("ready", flush=True)
        with tracer.start_as_current_span("POST /documents"):
            upload = await bus.publish("documentUploaded", {"document_id": 7})
        with anyio.fail_after(TIMEOUT):
            await two.wait()
            await bus.settled(upload.id)
            for message in analyses:
                await bus.settled(message.id)


async def metis(bus: EventBus) -> None:
    read = anyio.Event()
    uploads: list[Message[Any]] = []
    analyses: list[Message[Any]] = []

    async def read_document(message: Message[Any]) -> None:
        uploads.append(message)
        analyses.append(await bus.publish("documentAnalyzed", {"document_id": message.data.document_id}))
        read.set()

    bus.on("documentUploaded", read_document, mode="async", name="metis:read-document")
    async with bus:
        print("ready", flush=True)
        with anyio.fail_after(TIMEOUT):
            await read.wait()
            await bus.settled(uploads[0].id)
            [row] = await bus.replay(uploads[0].id, "metis:read-document")
            assert row.status == "succeeded", row
            for message in analyses:
                await bus.settled(message.id)  # the outbox relayed both analyses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["core", "metis"])
    parser.add_argument("--transport", choices=["nats", "sns-sqs"], required=True)
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--endpoint")
    parser.add_argument("--backend", default="asyncio")
    args = parser.parse_args()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tidings.otel.instrument(tracer_provider=provider)
    bus = EventBus(catalog(args.catalog), store=SQLiteStore(args.dir / f"{args.role}.db"),
                   transport=transport(args), poll_interval=0.05, shutdown_timeout=5.0)
    if args.role == "core":
        anyio.run(core, bus, provider.get_tracer("core-web"), backend=args.backend)
    else:
        anyio.run(metis, bus, backend=args.backend)
    spans = [json.loads(span.to_json()) for span in exporter.get_finished_spans()]
    (args.dir / f"{args.role}.spans.json").write_text(json.dumps(spans, indent=1))
    print("done", flush=True)


if __name__ == "__main__":
    main()
