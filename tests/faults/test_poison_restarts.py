"""Poison messages whose handler raises KeyboardInterrupt, SystemExit or a custom BaseException,
across real restarts of a real process on a real store: each attempt is counted before the
process stops, so a delivery is `dead` with the reason after `max_attempts` attempts (never
more), a crashed run exits promptly (the subprocess timeout is only a hang guard: such a crash
once took 30 s, the lease, on asyncio), and the next start runs nothing and exits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.faults.support import SqlBackend

ROOT = Path(__file__).resolve().parents[2]
HANG_GUARD = 20.0
MAX_ATTEMPTS = 3
BACKENDS = pytest.mark.parametrize("async_backend", ["asyncio", "trio"])


class App:
    """Starts `tests.faults.poison_app` on one store, again and again."""

    def __init__(self, backend: SqlBackend, workdir: Path, async_backend: str, kind: str, mode: str,
                 count: int) -> None:
        spec = f"sqlite:{workdir / 'events.db'}" if backend.kind == "sqlite" else None
        self.spec = spec or f"postgres:{backend.new().schema}"
        self.args = [async_backend, self.spec, kind, mode, str(count), str(workdir)]
        self.workdir = workdir
        self.runs: list[str] = []

    def start(self) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        done = subprocess.run([sys.executable, "-m", "tests.faults.poison_app", *self.args],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=HANG_GUARD)
        self.runs.append(f"run {len(self.runs) + 1} (exit {done.returncode}):\n{done.stdout}{done.stderr}")
        return done

    def attempts(self) -> list[tuple[int, int]]:
        """(shipment, attempt) of every attempt the handler began, in order."""
        path = self.workdir / "attempts"
        lines = path.read_text().splitlines() if path.exists() else []
        return [(int(a), int(b)) for a, b in (line.split() for line in lines)]

    def output(self) -> str:
        return "\n".join(self.runs)


def _rows(backend: SqlBackend) -> list[tuple[str, int, str | None]]:
    return [(str(s), int(a), e) for s, a, e in
            backend.admin("SELECT status, attempts, last_error FROM deliveries", ())]


def _check_fourth_start_runs_nothing(app: App, backend: SqlBackend) -> None:
    before = app.attempts()
    again = app.start()
    assert again.returncode == 0, app.output()
    assert "Traceback" not in again.stderr, app.output()
    assert app.attempts() == before
    assert {s for s, _, _ in _rows(backend)} == {"dead"}


@BACKENDS
@pytest.mark.parametrize(("kind", "mode"), [
    ("KeyboardInterrupt", "async"), ("KeyboardInterrupt", "serial"), ("KeyboardInterrupt", "sync"),
    ("SystemExit", "async"), ("Poison", "async"),
])
def test_a_poison_message_goes_dead_after_max_attempts_restarts(
    sql_backend: SqlBackend, tmp_path: Path, async_backend: str, kind: str, mode: str
) -> None:
    app = App(sql_backend, tmp_path, async_backend, kind, mode, count=1)
    crashes = kind != "Poison"  # KeyboardInterrupt and SystemExit stop the process, once recorded
    for run in range(1, (MAX_ATTEMPTS if crashes else 1) + 1):
        done = app.start()
        assert (done.returncode != 0) == crashes, app.output()
        rows = _rows(sql_backend)
        assert len(rows) == 1, (rows, app.output())
        status, attempts, error = rows[0]
        assert attempts == (run if crashes else MAX_ATTEMPTS), (rows, app.output())
        assert status == ("dead" if attempts == MAX_ATTEMPTS else "failed"), (rows, app.output())
    assert error is not None and "HandlerAborted" in error and kind in error, error
    assert app.attempts() == [(0, n) for n in range(1, MAX_ATTEMPTS + 1)]
    _check_fourth_start_runs_nothing(app, sql_backend)


@BACKENDS
@pytest.mark.parametrize("kind", ["KeyboardInterrupt", "SystemExit"])
def test_poison_messages_handled_at_once_each_go_dead_and_every_crash_exits(
    sql_backend: SqlBackend, tmp_path: Path, async_backend: str, kind: str
) -> None:
    # Several attempts in flight when the first one stops the process: each still counts
    # (the others go back to the log), and the crash does not wait for their leases.
    app = App(sql_backend, tmp_path, async_backend, kind, "async", count=4)
    for _ in range(4 * MAX_ATTEMPTS):
        if app.start().returncode == 0:
            break
    else:
        raise AssertionError(f"still crashing after {len(app.runs)} runs:\n{app.output()}")
    rows = _rows(sql_backend)
    assert [(s, a) for s, a, _ in rows] == [("dead", MAX_ATTEMPTS)] * 4, (rows, app.output())
    per_shipment = Counter(shipment for shipment, _ in app.attempts())
    assert all(n <= MAX_ATTEMPTS for n in per_shipment.values()), (per_shipment, app.output())
    _check_fourth_start_runs_nothing(app, sql_backend)
