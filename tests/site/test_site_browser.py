"""The built site in a real headless Chromium from file://: the overview graph and a message
page render SVG nodes, search finds a message, and no link inside the site is broken."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    subprocess.run([sys.executable, "-m", "tidings", "docs", "--catalog", str(ROOT / "schemas"),
                    "--out", str(out)], check=True, capture_output=True, cwd=ROOT)
    return out


def test_overview_graph_renders_svg_nodes(browser: Any, site: Path) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((site / "index.html").as_uri())
    graph = page.locator("#graph svg")
    assert graph.count() == 1
    box = graph.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 200
    nodes = page.locator("#graph svg g.node")
    assert page.locator("#graph svg g.node.message").count() == 15  # every message once
    # contexts on the producing side (core, tracking, tasks, metis) and the receiving side (all 6)
    assert page.locator("#graph svg g.node.context").count() == 4 + 6
    assert page.locator("#graph svg g#msg_shipmentCreated").count() == 1
    assert page.locator("#graph svg g.node.orphan text").text_content() == "shipmentDelayed (TID-O006)"
    assert page.locator("#graph svg .edge").count() == 45  # one per producer and receiver
    assert page.locator("#graph svg g.group").count() == 4  # in-process and nats, on each side
    first = nodes.first.bounding_box()
    assert first is not None and first["width"] > 10  # laid out, not just present in the DOM
    IMAGES.mkdir(parents=True, exist_ok=True)
    graph.screenshot(path=str(IMAGES / "catalog-site-overview.png"))
    assert errors == []
    page.close()


def test_message_page_renders_flow_and_fields(browser: Any, site: Path) -> None:
    page = browser.new_page()
    page.goto((site / "messages" / "documentUploaded.html").as_uri())
    flow = page.locator("#flow svg g.node")
    assert flow.count() == 5  # core -> documentUploaded -> tasks, email, metis
    box = page.locator("#flow svg").bounding_box()
    assert box is not None and box["height"] > 50
    assert "subject tidings.freight.documentUploaded" in page.locator("dl.facts").inner_text()
    rows = page.locator("table.fields tbody tr")
    assert rows.count() == 8
    assert "freight.publishers.core.emit_document_uploaded" in page.content()
    page.screenshot(path=str(IMAGES / "catalog-site-message.png"), full_page=False)
    page.close()


def test_search_finds_by_description(browser: Any, site: Path) -> None:
    page = browser.new_page()
    page.goto((site / "contexts" / "core.html").as_uri())
    page.fill("#search", "carrier booking")
    hits = page.locator("#results a")
    assert hits.count() >= 1
    assert hits.first.inner_text() == "EMAIL_SendBookingRequestAskedEmailCommand"
    hits.first.click()
    page.wait_for_load_state()
    assert page.url.endswith("/messages/EMAIL_SendBookingRequestAskedEmailCommand.html")
    assert page.locator("h1").inner_text().startswith("EMAIL_SendBookingRequestAskedEmailCommand")
    page.close()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("href", "src", "xlink:href"):
            if values.get(key):
                self.links.append(str(values[key]))
        if values.get("id"):
            self.ids.add(str(values["id"]))


def test_no_link_inside_the_site_is_broken(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    parsed: dict[Path, _Links] = {}
    for path in pages:
        parser = _Links()
        parser.feed(path.read_text("utf-8"))
        parsed[path.resolve()] = parser
    checked = 0
    for path, parser in parsed.items():
        for link in parser.links:
            parts = urlsplit(link)
            assert not parts.scheme and not parts.netloc, f"{path}: external link {link}"
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target.is_file(), f"{path.relative_to(site.resolve())}: broken link {link}"
            if parts.fragment and target.suffix == ".html":
                assert parts.fragment in parsed[target].ids, f"{path}: no #{parts.fragment} in {target}"
            checked += 1
    assert checked > 200


def test_site_loads_nothing_from_the_network(site: Path) -> None:
    for path in site.rglob("*"):
        if path.suffix in {".html", ".js", ".css"}:
            assert not re.search(r"https?://(?!www\.w3\.org/)", path.read_text("utf-8")), path
