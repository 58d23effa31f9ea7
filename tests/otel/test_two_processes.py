"""One trace across two real processes: core -> broker -> metis -> broker -> core, over the real
NATS server and over SNS/SQS on moto's server (both processes share it over HTTP), each process
recording its spans with the SDK's in-memory exporter (tests/otel/trace_app.py). Checked: every
delivery span in the other process is a child of the producer's span, the outbox relay's
publish is a PRODUCER span of the broker's system, and metis's replay is a new trace linked to
core's original emit."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_service
from tests.test_example_two_process import Service, log
from tests.transports.aws import moto_endpoint
from tests.transports.conftest import delete_stream

__all__ = ["moto_endpoint"]  # the session fixture, for the tests here

Span = dict[str, Any]


def service(role: str, args: list[str], folder: Path) -> Service:
    """One role of tests/otel/trace_app.py as a process of its own."""
    return Service([role, *args], folder / f"{role}.out", module="tests.otel.trace_app")


def spans(folder: Path, role: str) -> list[Span]:
    found: list[Span] = json.loads((folder / f"{role}.spans.json").read_text())
    return found


def named(found: list[Span], name: str, **attributes: Any) -> list[Span]:
    return sorted((s for s in found if s["name"] == name
                   and all(s["attributes"].get(k) == v for k, v in attributes.items())),
                  key=lambda s: s["start_time"])


def trace_of(span: Span) -> str:
    return str(span["context"]["trace_id"])


def id_of(span: Span) -> str:
    return str(span["context"]["span_id"])


@pytest.fixture(params=["nats", "sns-sqs"])
def broker(request: pytest.FixtureRequest) -> Iterator[tuple[str, list[str]]]:
    """(transport kind, the arguments naming the broker and a catalog of the test's own)."""
    name = f"t{uuid.uuid4().hex[:12]}"
    if request.param == "nats":
        require_service("NATS", "127.0.0.1", 4222)
        yield "nats", ["--transport", "nats", "--catalog", name]
        delete_stream(f"TIDINGS_{name.upper()}")
        return
    endpoint = request.getfixturevalue("moto_endpoint")
    yield "sns-sqs", ["--transport", "sns-sqs", "--catalog", name, "--endpoint", endpoint]


def test_one_trace_across_two_processes_and_a_replay_linked_to_it(
    broker: tuple[str, list[str]], tmp_path: Path
) -> None:
    kind, args = broker
    common = [*args, "--dir", str(tmp_path)]
    core_backend, metis_backend = ("asyncio", "trio") if kind == "nats" else ("trio", "asyncio")
    metis = service("metis", [*common, "--backend", metis_backend], tmp_path)
    core: Service | None = None
    try:
        metis.wait_for("ready")
        core = service("core", [*common, "--backend", core_backend], tmp_path)
        for process in (core, metis):
            assert process.process.wait(150) == 0, process.output()
    finally:
        for process in (core, metis):
            if process is not None:
                process.kill()
    for process in (core, metis):
        assert process is not None and "done" in process.output()
        assert "Traceback" not in process.output() and "Failed to detach" not in process.output()
    core_spans, metis_spans = spans(tmp_path, "core"), spans(tmp_path, "metis")
    consumed, relayed = {"nats": ("nats", "nats"), "sns-sqs": ("aws_sqs", "aws.sns")}[kind]

    # core: the request, the emit inside it, the outbox relay's publish to the broker.
    [request] = named(core_spans, "POST /documents")
    [emit] = named(core_spans, "send documentUploaded", **{"messaging.system": "tidings"})
    [relay] = named(core_spans, "send documentUploaded", **{"messaging.system": relayed})
    assert emit["kind"] == "SpanKind.PRODUCER" and emit["parent_id"] == id_of(request)
    assert relay["kind"] == "SpanKind.PRODUCER" and relay["parent_id"] == id_of(emit)
    assert relay["attributes"]["messaging.operation.type"] == "send"
    trace = trace_of(request)
    assert trace_of(emit) == trace_of(relay) == trace

    # Both logs store the emit span's traceparent with the upload: core's as emitted, metis's as
    # received in the broker's header / message attribute.
    expected = f"00-{trace[2:]}-{id_of(emit)[2:]}-"
    for db in ("core.db", "metis.db"):
        [upload] = [e for e in log(tmp_path / db) if e["name"] == "documentUploaded"]
        assert upload["traceparent"].startswith(expected), (db, upload, expected)

    # metis: its delivery of the upload is a child of core's emit span, in core's trace.
    first, replayed = named(metis_spans, "process documentUploaded")
    assert first["kind"] == "SpanKind.CONSUMER" and first["parent_id"] == id_of(emit)
    message_id = emit["attributes"]["messaging.message.id"]
    assert trace_of(first) == trace and first["attributes"] == {
        "messaging.system": consumed, "messaging.destination.name": "documentUploaded",
        "tidings.subscriber": "metis:read-document", "messaging.operation.type": "process",
        "messaging.operation.name": "process", "messaging.message.id": message_id,
        "messaging.message.conversation_id": message_id,
        "tidings.delivery.attempt": 1, "messaging.consumer.group.name": "metis:read-document",
    }
    analysis_emits = named(metis_spans, "send documentAnalyzed", **{"messaging.system": "tidings"})
    assert len(analysis_emits) == 2 and analysis_emits[0]["parent_id"] == id_of(first)

    # ... and the analysis came back to core through the broker, still in the same trace.
    back = named(core_spans, "process documentAnalyzed")
    assert len(back) == 2
    [home] = [s for s in back if s["parent_id"] == id_of(analysis_emits[0])]
    assert trace_of(home) == trace and home["attributes"]["messaging.system"] == consumed

    # The replay: a new trace, whose delivery links to core's original emit.
    [replay] = named(metis_spans, "replay")
    assert trace_of(replay) != trace and replay["parent_id"] is None
    assert trace_of(replayed) == trace_of(replay) and replayed["parent_id"] == id_of(replay)
    [link] = replayed["links"]
    assert link["context"]["trace_id"] == trace and link["context"]["span_id"] == id_of(emit)
    assert analysis_emits[1]["parent_id"] == id_of(replayed)
    [again] = [s for s in back if s["parent_id"] == id_of(analysis_emits[1])]
    assert trace_of(again) == trace_of(replay)
