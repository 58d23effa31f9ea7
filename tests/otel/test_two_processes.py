"""One trace across two real processes: core -> broker -> metis -> broker -> core, over the real
NATS server and over SNS/SQS on moto's server (both processes share it over HTTP), each process
recording its spans with the SDK's in-memory exporter (tests/otel/trace_app.py). Checked: every
delivery span in the other process is a child of the producer's span, the outbox relay's
publish is a PRODUCER span of the broker's system, and metis's replay is a new trace linked to
core's original emit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_service
from tests.transports.aws import moto_endpoint
from tests.transports.conftest import delete_stream

__all__ = ["moto_endpoint"]  # the session fixture, for the tests here
ROOT = Path(__file__).resolve().parents[2]


class Process:
    """One service of tests/otel/trace_app.py, its output in a file."""

    def __init__(self, role: str, args: list[str], folder: Path) -> None:
        self.out = folder / f"{role}.out"
        self.file = self.out.open("w")
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "tests.otel.trace_app", role, *args],
                                        cwd=ROOT, env=env, stdout=self.file, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.out.read_text()

    def wait_for(self, text: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            assert self.process.poll() is None, f"exited {self.process.returncode}:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {text!r} after {timeout}s:\n{self.output()}"
            time.sleep(0.1)

    def finish(self, timeout: float = 150.0) -> None:
        code = self.process.wait(timeout)
        self.file.close()
        assert code == 0 and "done" in self.output(), self.output()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
        self.file.close()


Span = dict[str, Any]


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
    metis = Process("metis", [*common, "--backend", metis_backend], tmp_path)
    core: Process | None = None
    try:
        metis.wait_for("ready")
        core = Process("core", [*common, "--backend", core_backend], tmp_path)
        core.finish()
        metis.finish()
    finally:
        for process in (core, metis):
            if process is not None:
                process.kill()
    for process in (core, metis):
        assert process is not None
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
