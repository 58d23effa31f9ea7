"""`tidings emit` and `tidings replay` as real subprocesses of an app that instruments itself
with `tidings.otel` (its spans written as JSON lines): the replay is a new trace, linked to the
original emit. On a real SQLite file and a real PostgreSQL schema."""

from __future__ import annotations

import json

from tests.cli.conftest import Project

LABEL = '{"parcelRef": "P-1", "printer": "front"}'


TRACED_APP = """
import os

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

import tidings.otel
from depot_app import make_bus

provider = TracerProvider()
spans = open(os.environ["SPANS"], "a")
provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(
    out=spans, formatter=lambda span: span.to_json(indent=None) + "\\n")))
tidings.otel.instrument(tracer_provider=provider)
bus = make_bus()
"""


def test_tidings_replay_starts_a_new_trace_linked_to_the_emit(project: Project) -> None:
    (project.root / "traced_app.py").write_text(TRACED_APP)
    spans = project.root / "spans.jsonl"
    env = {"SPANS": str(spans)}
    dead = project.tidings("emit", "printLabel", LABEL, "--app", "traced_app:bus", "--wait", "30",
                           env={**env, "PRINTER_JAM": "1"})
    assert dead.returncode == 1, dead.stdout + dead.stderr
    fixed = project.tidings("replay", "--failed", "--app", "traced_app:bus", "--wait", "30", env=env)
    assert fixed.returncode == 0 and "replayed 1: 1 succeeded" in fixed.stdout, fixed.stdout + fixed.stderr
    found = [json.loads(line) for line in spans.read_text().splitlines()]
    [emit] = [s for s in found if s["name"] == "send printLabel"]
    attempts = [s for s in found if s["name"] == "process printLabel"]
    [replay] = [s for s in found if s["name"] == "replay"]
    assert len(attempts) == 3
    first, second, replayed = sorted(attempts, key=lambda s: s["start_time"])
    assert first["parent_id"] == second["parent_id"] == emit["context"]["span_id"]
    assert second["status"]["status_code"] == "ERROR"
    assert replay["context"]["trace_id"] != emit["context"]["trace_id"]
    assert replayed["parent_id"] == replay["context"]["span_id"]
    assert [link["context"]["span_id"] for link in replayed["links"]] == [emit["context"]["span_id"]]
