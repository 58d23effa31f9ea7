"""The console end to end: a real `tidings console` process, real logs (SQLite file, PostgreSQL
schema), Debian's chromium through Playwright."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.console.conftest import HOSTILE, ROOT, Log, fill_more

IMAGES = ROOT / "docs" / "images"


def test_filter_to_a_dead_delivery_open_it_replay_it_and_see_it_succeed(
    log: Log, console_factory: Any, page: Any
) -> None:
    console = console_factory("--app", "tests.console.app:make_bus", env=log.env())
    page.goto(console.url + "/")
    page.select_option("select[name=status]", "dead")
    page.click("button:has-text('Filter')")
    rows = page.locator("#rows tr.message")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-id") == str(log.dead_id)
    rows.first.locator("a.name").click()
    page.wait_for_url(re.compile(f"/messages/{log.dead_id}"))
    carrier = page.locator("tr.delivery-row[data-subscriber=carrier]")
    assert carrier.locator(".status").inner_text() == "dead"
    error = page.locator("details.error").first
    assert "CarrierDown: carrier refused shipment 1" in error.locator("summary").inner_text()
    assert not error.locator("pre").is_visible()  # the traceback is folded
    error.locator("summary").click()
    assert "Traceback" in error.locator("pre").inner_text()
    carrier.locator("button.replay").click()
    assert page.locator("#rows").inner_text() == "1"  # the confirmation counts the rows
    page.fill("input[name=who]", "on-call")
    page.click("#confirm")
    page.wait_for_url(re.compile(r"/jobs/\d+"))
    page.locator("#outcome.finished").wait_for()
    assert page.locator("#outcome").inner_text() == "1 succeeded"
    page.goto(console.url + f"/messages/{log.dead_id}")
    assert page.locator("tr.delivery-row[data-subscriber=carrier] .status").inner_text() == "succeeded"
    page.goto(console.url + "/actions")
    assert "on-call" in page.locator("table").inner_text()
    assert "1 succeeded" in page.locator("table").inner_text()


def test_read_only_hides_every_replay_button_and_refuses_the_post(
    log: Log, console_factory: Any, page: Any
) -> None:
    console = console_factory("--db", log.url, "--read-only", env=log.env())
    for path in ("/", f"/messages/{log.dead_id}", "/problems"):
        page.goto(console.url + path)
        assert page.locator("button.replay").count() == 0, path
    assert page.locator("section.group").count() >= 1  # the dead letter is shown, without a button
    status = page.evaluate(
        """async (id) => (await fetch('/replay', {method: 'POST', headers: {'Content-Type':
        'application/x-www-form-urlencoded'}, body: 'kind=message&message_id=' + id})).status""",
        str(log.dead_id),
    )
    assert status == 403


def test_a_wrong_token_gets_401_and_the_right_one_gets_in(
    log: Log, console_factory: Any, page: Any
) -> None:
    console = console_factory("--db", log.url, "--token", "s3cret-token", env=log.env())
    response = page.goto(console.url + "/?token=wrong")
    assert response.status == 401
    assert page.goto(console.url + "/problems").status == 401
    assert console.get("/api/counts", {"Authorization": "Bearer wrong"})[0] == 401
    assert console.get("/static/console.js")[0] == 401
    response = page.goto(console.url + "/?token=s3cret-token")
    assert response.status == 200
    assert page.url == console.url + "/"  # the token left the address bar for a cookie
    assert page.goto(console.url + "/problems").status == 200
    assert console.get("/api/counts", {"Authorization": "Bearer s3cret-token"})[0] == 200


def test_a_hostile_payload_renders_as_inert_text(log: Log, console_factory: Any, page: Any) -> None:
    console = console_factory("--db", log.url, env=log.env())
    page.goto(console.url + "/?q=onerror")
    assert page.locator("#rows tr.message").count() == 1
    page.goto(console.url + f"/messages/{log.hostile_id}")
    assert HOSTILE in page.locator("#payload").inner_text()
    page.wait_for_timeout(300)
    assert page.evaluate("window.pwned") is None
    assert page.locator("main script, main img").count() == 0


def test_thread_view_of_the_freight_example(tmp_path: Path, console_factory: Any, page: Any) -> None:
    db = tmp_path / "freight.db"
    subprocess.run([sys.executable, "-m", "examples.freight", "asyncio", str(db)], cwd=ROOT, check=True,
                   capture_output=True, timeout=120)
    console = console_factory("--db", str(db))
    page.goto(console.url + "/?name=documentUploaded")
    page.locator("#rows tr.message a.thread").first.click()
    page.wait_for_url(re.compile("/threads/"))
    tree = page.locator("ul.tree")
    text = tree.inner_text()
    assert page.locator("ul.tree > li.node > a.name").first.inner_text() == "documentUploaded"
    # metis analysed the upload in the background: its message was caused by the upload
    assert tree.locator("li.node li.node > a.name").first.inner_text() == "documentAnalyzed"
    assert re.search(r"\+\d+ ms", text)


def test_live_list_shows_new_messages_without_reload(log: Log, console_factory: Any, page: Any) -> None:
    console = console_factory("--db", log.url, env=log.env())
    page.goto(console.url + "/")
    before = page.locator("#rows tr.message").count()
    fill_more(log.url, 3)
    expect(page.locator("#rows tr.message")).to_have_count(before + 3, timeout=15_000)


def test_screenshots_of_the_main_pages(sqlite_log: Log, console_factory: Any, page: Any) -> None:
    log = sqlite_log
    console = console_factory("--app", "tests.console.app:make_bus", env=log.env())
    IMAGES.mkdir(parents=True, exist_ok=True)
    shots = {
        "console-messages.png": "/",
        "console-message.png": f"/messages/{log.dead_id}",
        "console-problems.png": "/problems",
    }
    for name, path in shots.items():
        page.goto(console.url + path)
        page.wait_for_timeout(400)  # the counts fragment
        page.screenshot(path=str(IMAGES / name), full_page=True)
        assert (IMAGES / name).stat().st_size > 5000
    page.goto(console.url + f"/messages/{log.dead_id}")
    page.locator("tr.delivery-row[data-subscriber=carrier] button.replay").click()
    page.screenshot(path=str(IMAGES / "console-confirm.png"))
