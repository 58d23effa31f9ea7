"""The console's JSON API, its guards and its command line, against a real `tidings console`."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import anyio

from tests.console.app import make_bus
from tests.console.conftest import ROOT, Console, Log, off_loop


def post(console: Console, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(console.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def get_json(console: Console, path: str) -> Any:
    status, text = console.get(path)
    assert status == 200, text
    return json.loads(text)


def test_openapi_filters_and_keyset_pages(log: Log, console_factory: Any) -> None:
    console = console_factory("--db", log.url, env=log.env())
    paths = get_json(console, "/api/openapi.json")["paths"]
    assert {"/api/messages", "/api/replay", "/api/replay/preview", "/api/threads/{id}"} <= set(paths)
    dead = get_json(console, "/api/messages?status=dead")["messages"]
    assert [m["id"] for m in dead] == [str(log.dead_id)]
    assert get_json(console, "/api/messages?subscriber=carrier&status=dead")["messages"][0]["deliveries"]
    assert get_json(console, "/api/messages?name=shipmentCreated&producer=nobody")["messages"] == []
    everything = [m["id"] for m in get_json(console, "/api/messages?limit=500")["messages"]]
    assert everything == sorted(everything, reverse=True) and len(everything) == 6
    seen: list[str] = []
    cursor = ""
    while True:
        page = get_json(console, f"/api/messages?limit=2{cursor}")
        seen += [m["id"] for m in page["messages"]]
        if page["next_before"] is None:
            break
        cursor = f"&before={page['next_before']}"
    assert seen == everything
    found = get_json(console, "/api/messages?q=ORDINARY%203")["messages"]
    assert [m["payload"]["shipmentId"] for m in found] == [3]
    counts = get_json(console, "/api/counts")
    assert counts["dead"] == 1 and counts["succeeded"] == 6
    problems = get_json(console, "/api/problems")["groups"]
    assert [(g["subscriber"], g["error_type"]) for g in problems] == [("carrier", "CarrierDown")]
    status, text = console.get("/api/messages?status=bogus")
    assert status == 400 and "status" in json.loads(text)["error"]


def test_replay_without_app_resets_rows_for_a_running_bus_and_is_logged(
    log: Log, console_factory: Any
) -> None:
    console = console_factory("--db", log.url, env=log.env())
    selection = {"kind": "subscriber", "subscriber": "carrier"}
    assert post(console, "/api/replay", selection, {})[0] == 403  # no CSRF token
    csrf = get_json(console, "/api/session")["csrf"]
    assert post(console, "/api/replay", selection, {"X-CSRF-Token": "forged"})[0] == 403
    status, preview = post(console, "/api/replay/preview", selection, {"X-CSRF-Token": csrf})
    assert (status, preview["rows"]) == (200, 1)
    status, job = post(console, "/api/replay", {**selection, "who": "script"}, {"X-CSRF-Token": csrf})
    assert status == 202 and len(job["deliveries"]) == 1
    time.sleep(0.5)
    job = get_json(console, f"/api/jobs/{job['id']}")
    assert job["counts"]["pending"] == 1 and not job["settled"]  # waits for a bus to run it

    async def run_a_bus() -> None:
        async with make_bus() as bus:
            with anyio.fail_after(20):
                while True:
                    assert bus.store is not None
                    rows = (await bus.store.log(message_id=log.dead_id))[0].deliveries
                    if all(d.status == "succeeded" for d in rows):
                        return
                    await anyio.sleep(0.05)

    off_loop(run_a_bus)
    deadline = time.monotonic() + 20
    while not (job := get_json(console, f"/api/jobs/{job['id']}"))["finished"]:
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    assert job["outcome"] == "1 succeeded"
    status, page = console.get("/actions")
    assert "script from 127.0.0.1" in page and "1 succeeded" in page


def test_read_only_refuses_writes_and_creates_nothing(tmp_path: Path, sqlite_log: Log,
                                                       console_factory: Any) -> None:
    path = sqlite_log.url.removeprefix("sqlite:///")
    console = console_factory("--db", sqlite_log.url, "--read-only", env=sqlite_log.env())
    csrf = get_json(console, "/api/session")["csrf"]
    status, body = post(console, "/api/replay", {"kind": "message", "message_id": str(sqlite_log.dead_id)},
                        {"X-CSRF-Token": csrf})
    assert status == 403 and "read-only" in body["error"]
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        dead = conn.execute("SELECT count(*) FROM deliveries WHERE status = 'dead'").fetchone()[0]
    assert "console_actions" not in tables and dead == 1


def test_only_loopback_host_headers_without_a_token(sqlite_log: Log, console_factory: Any) -> None:
    console = console_factory("--db", sqlite_log.url, env=sqlite_log.env())
    assert console.get("/", {"Host": "attacker.example:8765"})[0] == 403
    assert console.get("/", {"Host": "localhost"})[0] == 200


def tidings(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).parent / "tidings"), "console", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_bad_command_lines_are_one_line_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nothere.db"
    cases = [
        (["--db", str(missing)], "no such file"),
        (["--db", str(tmp_path / "x.db"), "--host", "0.0.0.0"], "needs --token"),
        (["--db", str(missing), "--token", " "], "--token: empty"),
        ([], "no event log given"),
        (["--db", "mysql://x"], "unknown store URL"),
    ]
    for args, expected in cases:
        done = tidings(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert expected in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not missing.exists()
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE users (id INTEGER)")
    done = tidings("--db", str(foreign))
    assert done.returncode == 2 and "not a tidings event log" in done.stderr
    with sqlite3.connect(foreign) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["users"]


def test_a_thread_spans_the_logs_of_two_services(tmp_path: Path, console_factory: Any) -> None:
    from tests.console.app import CATALOG, Shipment
    from tidings.runtime import EventBus, Message
    from tidings.runtime.stores import SQLiteStore

    first, second = tmp_path / "core.db", tmp_path / "billing.db"

    async def run() -> str:
        async with EventBus(CATALOG, store=SQLiteStore(second)) as billing, \
                EventBus(CATALOG, store=SQLiteStore(first)) as core:
            async def hand_over(message: Message[Shipment]) -> None:
                await billing.publish("shipmentBooked", {"shipmentId": message.data.shipment_id})

            core.on("shipmentCreated", hand_over, name="hand-over")
            root = await core.publish("shipmentCreated", {"shipmentId": 7})
            await core.drain()
            await billing.drain()
            return str(root.correlation_id)

    correlation = off_loop(run)
    console = console_factory("--db", str(first), "--db", f"sqlite:///{second}")
    tree = get_json(console, f"/api/threads/{correlation}")
    assert tree["count"] == 2
    [root] = tree["roots"]
    assert (root["message"]["name"], root["message"]["log"]) == ("shipmentCreated", 0)
    [child] = root["children"]
    assert (child["message"]["name"], child["message"]["log"]) == ("shipmentBooked", 1)
    status, page = console.get(f"/threads/{correlation}")
    assert status == 200 and str(second) in page
