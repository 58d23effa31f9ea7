"""The example app stops gracefully on SIGTERM: nothing is left `running`, the rest stays in the log."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_sigterm_leaves_every_delivery_finished_or_pending(tmp_path: Path) -> None:
    db = tmp_path / "freight.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "examples.freight", "asyncio", str(db)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "all published" in line:
            process.send_signal(signal.SIGTERM)
            break
    rest, _ = process.communicate(timeout=60)
    output = "".join(seen) + rest
    assert process.returncode == 0, output
    assert "SIGTERM: stopping" in output
    assert "Traceback" not in output
    with sqlite3.connect(db) as connection:
        statuses = [row[0] for row in connection.execute("SELECT status FROM deliveries")]
    assert statuses, output
    assert "running" not in statuses
    assert set(statuses) <= {"pending", "succeeded", "failed", "dead"}
