"""The console's test rig: a log with a dead delivery (SQLite file or PostgreSQL schema), the
console as a real `tidings console` subprocess, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.conftest import require_service
from tests.console.app import make_bus

ROOT = Path(__file__).resolve().parents[2]
PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
HOSTILE = "<script>window.pwned = 1</script><img src=x onerror=window.pwned=2>"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@dataclass
class Log:
    """A test log: its URL, the marker file that breaks the carrier, the ids it holds."""

    url: str
    broken: Path
    dead_id: uuid.UUID
    hostile_id: uuid.UUID

    def env(self) -> dict[str, str]:
        return {**os.environ, "CONSOLE_TEST_DB": self.url, "CONSOLE_TEST_BROKEN": str(self.broken),
                "PYTHONPATH": str(ROOT)}


def fill(url: str, broken: Path) -> tuple[uuid.UUID, uuid.UUID]:
    """Emit through the test app with the carrier broken: shipment 1's carrier delivery goes dead;
    then a message with a hostile payload and a few ordinary ones."""
    os.environ["CONSOLE_TEST_DB"] = url
    os.environ["CONSOLE_TEST_BROKEN"] = str(broken)
    broken.write_text("down")

    async def run() -> tuple[uuid.UUID, uuid.UUID]:
        bus = make_bus()
        async with bus:
            assert bus.store is not None
            dead = (await bus.publish("shipmentCreated", {"shipmentId": 1, "note": "first"})).id
            with anyio.fail_after(20):
                while True:
                    await bus.store.flush()
                    rows = (await bus.store.log(message_id=dead))[0].deliveries
                    if {d.subscriber: d.status for d in rows}.get("carrier") == "dead":
                        break
                    await anyio.sleep(0.05)
            broken.unlink()
            for n in range(2, 6):
                await bus.publish("shipmentBooked", {"shipmentId": n, "note": f"ordinary {n}"})
            hostile = (await bus.publish("shipmentBooked", {"shipmentId": 99, "note": HOSTILE})).id
            await bus.drain()
            await bus.store.flush()
        return dead, hostile

    return off_loop(run)


@pytest.fixture
def sqlite_log(tmp_path: Path) -> Log:
    """The test log in an SQLite file."""
    broken = tmp_path / "carrier-broken"
    url = f"sqlite:///{tmp_path / 'events.db'}"
    return Log(url, broken, *fill(url, broken))


@pytest.fixture(params=["sqlite", "postgres"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Log]:
    """The test log in an SQLite file, then in a PostgreSQL schema."""
    broken = tmp_path / "carrier-broken"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'events.db'}"
        yield Log(url, broken, *fill(url, broken))
        return
    require_service("PostgreSQL", "127.0.0.1", 5432)
    import psycopg

    schema = f"console_{uuid.uuid4().hex[:10]}"
    url = f"{PG_DSN}?schema={schema}"
    try:
        yield Log(url, broken, *fill(url, broken))
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # type: ignore[arg-type]


def off_loop(fn: Any) -> Any:
    """`anyio.run(fn)` in a thread of its own: Playwright's sync API keeps an event loop running
    in the test's thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, fn).result()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Console:
    """A running `tidings console` subprocess."""

    url: str
    process: subprocess.Popen[str]

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


def start_console(*args: str, env: dict[str, str] | None = None) -> Console:
    """Start `tidings console ARGS --port P` and wait until it answers (or fail with its stderr)."""
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "tidings"), "console", *args, "--port", str(port)], cwd=ROOT,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"console exited {process.returncode}: {error}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return Console(f"http://127.0.0.1:{port}", process)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("console did not start in 30 s")


def stop_console(console: Console) -> None:
    console.process.terminate()
    try:
        console.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        console.process.kill()
        console.process.wait()


@pytest.fixture
def console_factory() -> Iterator[Any]:
    started: list[Console] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Console:
        console = start_console(*args, env=env)
        started.append(console)
        return console

    yield start
    for console in started:
        stop_console(console)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, through Playwright (fails in CI when it is missing)."""
    executable = shutil.which("chromium")
    if executable is None:
        reason = "chromium is not installed (apt-get install -y chromium)"
        if in_ci():
            pytest.fail(f"CI requires {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=executable, args=BROWSER_ARGS, headless=True,
            viewport={"width": 1280, "height": 860},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page()
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        page.close()
        browser.clear_cookies()


def fill_more(url: str, count: int) -> None:
    """Emit `count` more ordinary messages into the log (another process's bus, as it were)."""
    os.environ["CONSOLE_TEST_DB"] = url

    async def run() -> None:
        async with make_bus() as bus:
            for n in range(count):
                await bus.publish("shipmentBooked", {"shipmentId": 100 + n, "note": "live"})
            await bus.drain()

    off_loop(run)
