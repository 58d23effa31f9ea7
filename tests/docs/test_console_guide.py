"""docs/guides/console.md, its shell lines run as written (the install line aside; the port is
a free one instead of 8765, so parallel runs do not collide): the console on a real SQLite log
with a dead delivery of subscriber `billing`, and the replay through its HTTP API with curl."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.docs._pages import DOCS, blocks, shell_env

PAGE = DOCS / "guides" / "console.md"

APP = textwrap.dedent('''
    import pydantic

    from tidings.runtime import CatalogSpec, EventBus, MessageSpec, RetryPolicy
    from tidings.runtime.stores import open_store


    class Order(pydantic.BaseModel):
        orderId: str


    CATALOG = CatalogSpec("shop", {"orderPlaced": MessageSpec(
        "orderPlaced", "event", Order, retry=RetryPolicy(max_attempts=1, initial_delay=0.01))})
    bus = EventBus(CATALOG, store=open_store("events.db"), poll_interval=0.05)


    def charge(message):
        raise ConnectionError("payments down")


    bus.on("orderPlaced", charge, name="billing", mode="async")
''')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_console_guide_serves_and_replays_through_the_api(tmp_path: Path) -> None:
    lines = [line.removeprefix("$ ") for b in blocks(PAGE) if b.lang == "console"
             for line in b.text.replace("\\\n", "").splitlines() if line.startswith("$ ")]
    assert "pip install 'tidings[console]'" in lines
    start, session, replay = (line for line in lines if not line.startswith("pip install"))
    assert start == "tidings console --db sqlite:///events.db"
    port = _free_port()
    env = shell_env()
    (tmp_path / "app.py").write_text(APP)
    emitted = subprocess.run(
        [sys.executable, "-m", "tidings", "emit", "orderPlaced", '{"orderId": "o-1"}', "--app",
         "app:bus", "--wait", "30"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120, check=False)
    assert emitted.returncode == 1 and "dead" in emitted.stdout, emitted.stdout + emitted.stderr

    console = subprocess.Popen(["bash", "-c", f"exec {start} --port {port}"], cwd=tmp_path,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert console.poll() is None, console.communicate()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the console did not start in 30 s"
                time.sleep(0.1)
        script = "\n".join(line.replace("localhost:8765", f"localhost:{port}")
                           for line in (session, replay))
        ran = subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], cwd=tmp_path,
                             env=env, capture_output=True, text=True, timeout=60, check=False)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        job = json.loads(ran.stdout)
        assert job["selection"]["subscriber"] == "billing", job
        assert [d["subscriber"] for d in job["deliveries"]] == ["billing"], job
    finally:
        console.terminate()
        out, err = console.communicate(timeout=15)
    assert f"tidings console on http://127.0.0.1:{port}/; Ctrl-C stops it" in out + err
    log = subprocess.run([sys.executable, "-m", "tidings", "log", "--db", "events.db"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
                         check=False)
    assert "billing" in log.stdout and "pending" in log.stdout, log.stdout  # set back, no app
