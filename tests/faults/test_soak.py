"""The soak (benchmarks/soak.py), short: a SIGKILL and restart, a write lock from another
process held longer than the lease, a full disk, random handler failures, BaseException-class
failures and cancelled publishes; it must end with 0 lost, 0 stuck and no delivery run more
often than the documented bound allows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"


def test_the_short_soak_loses_nothing_and_leaves_nothing_stuck() -> None:
    result = subprocess.run(
        [sys.executable, str(SOAK), "--publishers", "8", "--messages", "400", "--lease", "1",
         "--handler-delay", "0.02", "--lock-seconds", "3", "--disk-full-seconds", "0.5",
         "--base-failures", "0.03", "--cancel-fraction", "0.05", "--settle-timeout", "40",
         "--phase-timeout", "60"],
        capture_output=True, text=True, timeout=300,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-3000:]
    assert "fault: " in out and "SIGKILL of bus process" in out, out
    assert "write lock held 3s" in out and "disk full for 0.5s" in out, out
    counts = json.loads(out.split("  counts: ", 1)[1].splitlines()[0])
    assert counts["lost"] == 0 and counts["stuck"] == 0 and counts["missing_deliveries"] == 0, out
    assert counts["over_bound"] == 0 and counts["deaths"] >= 1 and counts["stalled"] == 0, out
    # The faults this run is about happened (else it proves nothing).
    assert counts["runs"].get("base", 0) > 0 and counts["runs"].get("fail", 0) > 0, out
    assert counts["cancelled"] > 0 and counts["accepted"] > 300, out
    assert set(counts["deliveries"]) <= {"succeeded", "dead"}, out
    assert "result: OK: 0 lost, 0 stuck" in out, out
