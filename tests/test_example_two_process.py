"""The example's two services (`python -m examples.freight.services core|metis`) as real processes
on the real NATS server: every analysis crosses back to core, both event logs record the
deliveries as succeeded with the same message ids, and SIGTERM stops both with exit code 0.

Each test runs the catalog under its own namespace on the wire (subjects `tidings.<ns>.>`, stream
`TIDINGS_<NS>`), deleted at the end. The processes run on asyncio or trio (`--backend`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_service
from tests.transports.conftest import delete_stream

ROOT = Path(__file__).resolve().parent.parent
NATS_URL = "nats://127.0.0.1:4222"
RELAY = "tidings.relay:nats"
DOCUMENTS = ("BL-0001.pdf", "INV-0002.pdf", "PL-0003.pdf")


@pytest.fixture
def namespace() -> Iterator[str]:
    """A namespace of its own on the NATS server; its stream is deleted afterwards."""
    require_service("NATS", "127.0.0.1", 4222)
    name = f"t{uuid.uuid4().hex[:12]}"
    yield name
    delete_stream(f"TIDINGS_{name.upper()}")


class Service:
    """One service process (`python -m module ARGS`), its output going to a file (read while it runs)."""

    def __init__(self, args: list[str], out: Path, module: str = "examples.freight.services") -> None:
        self.out = out
        self.file = out.open("w")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT, env=env, stdout=self.file, stderr=subprocess.STDOUT, text=True,
        )

    def output(self) -> str:
        """Everything the process printed so far."""
        return self.out.read_text()

    def wait_for(self, text: str, timeout: float = 120.0) -> None:
        """Wait until the output shows `text` (fail if the process ends or `timeout` passes)."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            assert self.process.poll() is None, f"exited {self.process.returncode}:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {text!r} after {timeout}s:\n{self.output()}"
            time.sleep(0.1)

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, then the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self.file.close()
        return code

    def kill(self) -> None:
        """Make sure the process is gone (after a failure)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
        self.file.close()


def log(db: Path) -> list[dict[str, Any]]:
    """The event log, as `tidings log --format json` prints it."""
    done = subprocess.run(
        [sys.executable, "-m", "tidings", "log", "--db", str(db), "--limit", "1000", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    entries: list[dict[str, Any]] = json.loads(done.stdout)
    return entries


def by_name(entries: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The entries of messages called `name`."""
    return [e for e in entries if e["name"] == name]


def rows(entry: dict[str, Any]) -> dict[str, tuple[str, int]]:
    """An entry's deliveries: subscriber -> (status, attempts)."""
    return {d["subscriber"]: (d["status"], d["attempts"]) for d in entry["deliveries"]}


@pytest.mark.parametrize(("backend", "exit_when_done"), [
    ("asyncio", False), ("trio", False), ("asyncio", True),
])
def test_core_and_metis_over_nats(tmp_path: Path, namespace: str, backend: str, exit_when_done: bool) -> None:
    common = ["--nats", NATS_URL, "--dir", str(tmp_path), "--namespace", namespace, "--backend", backend]
    metis = Service(["metis", *common], tmp_path / "metis.out")
    core: Service | None = None
    try:
        metis.wait_for("serving until SIGTERM or SIGINT")
        core_args = ["core", *common, "--count", "3"] + (["--exit-when-done"] if exit_when_done else [])
        core = Service(core_args, tmp_path / "core.out")
        if exit_when_done:
            assert core.process.wait(180) == 0, core.output()
            core.file.close()
        else:
            core.wait_for("serving until SIGTERM or SIGINT", timeout=180)
            assert core.stop() == 0, core.output()
        assert metis.stop() == 0, metis.output()
    finally:
        for service in (core, metis):
            if service is not None:
                service.kill()
    core_out, metis_out = core.output(), metis.output()
    for output in (core_out, metis_out):
        assert "Traceback" not in output, output
    assert "every document read: 3 of 3" in core_out, core_out
    assert "[      core] stopped" in core_out and "[     metis] stopped" in metis_out
    if not exit_when_done:
        assert "SIGTERM: stopping" in core_out, core_out
    assert "SIGTERM received: shutting down gracefully" in metis_out, metis_out

    # Every analysis came back to core through NATS: one per document, and the accurate re-read
    # of the invoice the fast model was unsure of.
    for file_name, confidence in [(DOCUMENTS[0], "0.97"), (DOCUMENTS[1], "0.71"),
                                  (DOCUMENTS[1], "0.99"), (DOCUMENTS[2], "0.93")]:
        line = f"from {file_name} (confidence {confidence})"
        assert any(line in text and "stored metis fields: " in text and "via NATS" in text
                   for text in core_out.splitlines()), (line, core_out)
    for file_name in DOCUMENTS:
        assert f"read {file_name} with the fast model" in metis_out, metis_out
    assert f"read {DOCUMENTS[1]} again with the accurate model" in metis_out, metis_out

    core_log, metis_log = log(tmp_path / "core.db"), log(tmp_path / "metis.db")
    for entries in (core_log, metis_log):
        assert entries
        assert all(d["status"] == "succeeded" for e in entries for d in e["deliveries"]), entries

    # core: each upload went out through the outbox; each analysis came in on core's consumer.
    uploads = by_name(core_log, "documentUploaded")
    assert sorted(e["payload"]["fileName"] for e in uploads) == list(DOCUMENTS)
    assert all(rows(e)[RELAY] == ("succeeded", 1) for e in uploads)
    analyses = by_name(core_log, "documentAnalyzed")
    assert len(analyses) == 4 and all(rows(e) == {"core:note-analysis": ("succeeded", 1)} for e in analyses)
    [command] = by_name(core_log, "METIS_AnalyzeDocumentCommand")
    assert rows(command) == {RELAY: ("succeeded", 1)}

    # metis: the same messages (same ids, same threads), taken from NATS and relayed back.
    metis_uploads = by_name(metis_log, "documentUploaded")
    assert {e["id"] for e in metis_uploads} == {e["id"] for e in uploads}
    assert all(rows(e) == {"metis:read-document": ("succeeded", 1)} for e in metis_uploads)
    [metis_command] = by_name(metis_log, "METIS_AnalyzeDocumentCommand")
    assert metis_command["id"] == command["id"]
    assert rows(metis_command) == {"metis:reanalyze": ("succeeded", 2)}  # retried through NATS
    metis_analyses = by_name(metis_log, "documentAnalyzed")
    assert {e["id"] for e in metis_analyses} == {e["id"] for e in analyses}
    assert all(rows(e) == {RELAY: ("succeeded", 1)} for e in metis_analyses)
    threads = {e["id"]: e["correlation_id"] for e in core_log}
    for entry in metis_analyses:
        assert threads[entry["id"]] == entry["correlation_id"]
        assert entry["correlation_id"] in {e["id"] for e in uploads}

    if exit_when_done:
        # The README's replay: metis's bus from the environment runs its reader again on the
        # invoice; the new analysis goes out through metis's outbox.
        [invoice] = [e for e in uploads if e["payload"]["fileName"] == DOCUMENTS[1]]
        env = {**os.environ, "FREIGHT_DIR": str(tmp_path), "FREIGHT_NATS": NATS_URL,
               "FREIGHT_NAMESPACE": namespace}
        done = subprocess.run(
            [sys.executable, "-m", "tidings", "replay", invoice["id"], "--app",
             "examples.freight.services:metis_bus"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"read {DOCUMENTS[1]} with the fast model" in done.stdout, done.stdout
        assert "replayed 1: 1 succeeded" in done.stdout, done.stdout
        metis_log = log(tmp_path / "metis.db")
        [replayed] = [e for e in metis_log if e["id"] == invoice["id"]]
        assert rows(replayed) == {"metis:read-document": ("succeeded", 1)}
        analyses_now = by_name(metis_log, "documentAnalyzed")
        assert len(analyses_now) == 5 and all(rows(e) == {RELAY: ("succeeded", 1)} for e in analyses_now)
