"""`tidings emit | log | replay | db upgrade` as real subprocesses on a real SQLite file."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

APP = textwrap.dedent('''
    import os

    import pydantic

    from tidings.runtime import CatalogSpec, EventBus, Message, MessageSpec, RetryPolicy
    from tidings.runtime.stores import SQLiteStore


    class Shipment(pydantic.BaseModel):
        shipmentId: str


    CATALOG = CatalogSpec("freight", {
        "shipmentCreated": MessageSpec("shipmentCreated", "event", Shipment),
        "EMAIL_Ask": MessageSpec("EMAIL_Ask", "command", Shipment, handler="email",
                                 retry=RetryPolicy(max_attempts=2, initial_delay=0.01)),
        "resyncTracking": MessageSpec("resyncTracking", "command", Shipment, handler="tracking"),
    })


    def make_bus():
        bus = EventBus(CATALOG, store=SQLiteStore(os.environ["APP_DB"]), poll_interval=0.05)

        async def ask_email(message: Message[Shipment]) -> None:
            await bus.emit("EMAIL_Ask", message.data)

        def send(message: Message[Shipment]) -> None:
            if os.environ.get("SMTP_DOWN"):
                raise ConnectionError("smtp.example.com refused the connection")

        bus.on("shipmentCreated", ask_email, name="core.ask_email")
        bus.on("EMAIL_Ask", send, name="email.send", mode="async")
        return bus


    bus = make_bus()
''')


@pytest.fixture
def app(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "freight_app.py").write_text(APP)
    return {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}", "APP_DB": str(tmp_path / "log.db"),
            "TIDINGS_APP": "", "TIDINGS_DB": ""}


def tidings(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tidings", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=60, check=False)


SHIPMENT = '{"shipmentId": "S-1"}'


def test_emit_runs_the_handlers_and_prints_the_outcomes(app: dict[str, str], tmp_path: Path) -> None:
    result = tidings(
        app, "emit", "shipmentCreated", SHIPMENT, "--app", "freight_app:bus", "--producer", "cli"
    )
    assert result.returncode == 0, result.stderr
    first, delivery = result.stdout.splitlines()
    assert first.startswith("message ") and first.endswith(" shipmentCreated")
    assert "core.ask_email" in delivery and "succeeded" in delivery
    message_id = first.split()[1]

    # The command the handler emitted is in the same thread of execution.
    log = tidings(app, "log", "--db", app["APP_DB"], "--correlation", message_id, "--format", "json")
    assert log.returncode == 0, log.stderr
    thread = json.loads(log.stdout)
    assert [m["name"] for m in thread] == ["shipmentCreated", "EMAIL_Ask"]
    assert thread[0]["producer"] == "cli" and thread[0]["payload"] == {"shipmentId": "S-1"}
    assert thread[1]["causation_id"] == message_id
    assert thread[1]["deliveries"][0]["subscriber"] == "email.send"
    assert thread[1]["deliveries"][0]["status"] == "succeeded"


def test_a_failing_handler_is_retried_goes_dead_and_is_replayed(app: dict[str, str], tmp_path: Path) -> None:
    down = {**app, "SMTP_DOWN": "1"}
    result = tidings(down, "emit", "EMAIL_Ask", SHIPMENT, "--app", "freight_app:bus")
    assert result.returncode == 1
    assert "email.send" in result.stdout and "dead" in result.stdout and "attempts=2" in result.stdout
    assert "smtp.example.com refused the connection" in result.stdout
    message_id = result.stdout.split()[1]

    dead = tidings(app, "log", "--db", app["APP_DB"], "--status", "dead")
    assert dead.returncode == 0 and message_id in dead.stdout and "ConnectionError" in dead.stdout

    still_down = tidings(down, "replay", message_id, "--app", "freight_app:bus")
    assert still_down.returncode == 1 and "dead" in still_down.stdout

    replay = tidings(app, "replay", "--failed", "--since", "1h", "--app", "freight_app:bus")
    assert replay.returncode == 0, replay.stderr
    assert "replayed 1: 1 succeeded" in replay.stdout
    assert "no messages" in tidings(app, "log", "--db", app["APP_DB"], "--status", "dead").stderr


def test_settings_come_from_pyproject_then_the_environment(app: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.tidings]\napp = "freight_app:bus"\n')
    result = tidings(app, "emit", "shipmentCreated", SHIPMENT, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (tmp_path / "pyproject.toml").write_text("[tool.other]\n")
    env = {**app, "TIDINGS_DB": app["APP_DB"]}
    log = tidings(env, "log", cwd=tmp_path)
    assert log.returncode == 0 and "shipmentCreated" in log.stdout


def test_db_upgrade_creates_the_documented_tables(app: dict[str, str], tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    result = tidings(app, "db", "upgrade", "--db", f"sqlite:///{db}")
    assert result.returncode == 0 and "schema version 2" in result.stdout
    with sqlite3.connect(db) as conn:
        columns = {table: [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
                   for table in ("messages", "deliveries", "tidings_schema")}
    assert columns["messages"] == ["id", "name", "version", "payload", "emitted_at", "correlation_id",
                                   "causation_id", "producer", "traceparent"]
    assert columns["deliveries"] == ["id", "message_id", "subscriber", "status", "attempts", "last_error",
                                     "next_attempt_at", "owner", "lease_until", "updated_at"]
    assert tidings(app, "db", "upgrade", "--db", str(db)).returncode == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["emit", "shipmentCreated", "{nope", "--app", "freight_app:bus"], "PAYLOAD: not valid JSON"),
        (["emit", "shipmentCreated", '{"shipmentId": 5}', "--app", "freight_app:bus"],
         "PAYLOAD does not match 'shipmentCreated'"),
        (["emit", "shipmentCreatd", SHIPMENT, "--app", "freight_app:bus"], "known names"),
        (["emit", "resyncTracking", SHIPMENT, "--app", "freight_app:bus"],
         "'resyncTracking' is a command and needs exactly one handler in the app; found 0"),
        (["emit", "shipmentCreated", SHIPMENT, "--app", "no_such_module:bus"],
         "cannot import 'no_such_module'"),
        (["emit", "shipmentCreated", SHIPMENT, "--app", "freight_app:nope"], "has no attribute 'nope'"),
        (["emit", "shipmentCreated", SHIPMENT, "--app", "freight_app"], "is not module:attribute"),
        (["emit", "shipmentCreated", SHIPMENT], "no application bus given"),
        (["log"], "no event log given"),
        (["log", "--db", "/no/such/dir/log.db"], "directory '/no/such/dir' does not exist"),
        (["log", "--db", "mysql://x"], "unknown store URL"),
        (["log", "--db", "x.db", "--correlation", "42"], "--correlation: '42' is not a message id"),
        (["replay", "--app", "freight_app:bus"], "replay needs MESSAGE_ID"),
        (["replay", "--failed", "--since", "yesterday", "--app", "freight_app:bus"], "--since: 'yesterday'"),
        (["replay", "--failed", "--subscriber", "nobody", "--app", "freight_app:bus"], "is not subscribed"),
    ],
)
def test_bad_input_is_one_readable_line_and_exit_2(
    app: dict[str, str], tmp_path: Path, args: list[str], expected: str
) -> None:
    result = tidings(app, *args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_a_serving_bus_picks_up_an_admins_update_and_stops_on_sigterm(app: dict[str, str]) -> None:
    down = {**app, "SMTP_DOWN": "1"}
    result = tidings(down, "emit", "EMAIL_Ask", SHIPMENT, "--app", "freight_app:bus")
    assert result.returncode == 1 and "dead" in result.stdout
    message_id = result.stdout.split()[1]
    server = subprocess.Popen(
        [sys.executable, "-c", "import anyio, freight_app; anyio.run(freight_app.bus.serve)"],
        env=app, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        # What an admin tool (Retool) does: flip the dead delivery back to pending.
        with sqlite3.connect(app["APP_DB"]) as conn:
            conn.execute("UPDATE deliveries SET status = 'pending', attempts = 0 WHERE message_id = ?",
                         (message_id,))
        deadline = time.monotonic() + 15
        status = "pending"
        while status != "succeeded" and time.monotonic() < deadline:
            time.sleep(0.05)
            with sqlite3.connect(app["APP_DB"]) as conn:
                [(status,)] = conn.execute(
                    "SELECT status FROM deliveries WHERE message_id = ?", (message_id,)
                ).fetchall()
        assert status == "succeeded"
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=15)
        assert server.returncode == 0, stderr
        assert "SIGTERM received: shutting down gracefully" in stderr
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
