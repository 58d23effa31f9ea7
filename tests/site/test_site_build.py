"""`tidings docs` on a real git repository: per-message history with the checker's findings
between versions, `--against` marking changes, Markdown with Mermaid, the Graphviz layout, and
bad input as one line with exit code 2."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.checker._repo import BASE, GIT_ENV
from tidings.catalog import load_catalog
from tidings.site import build_site, load_history, overview_svg

ROOT = Path(__file__).resolve().parents[2]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True)


def _commit(repo: Path, data: dict[str, Any], message: str) -> None:
    (repo / "schemas").mkdir(exist_ok=True)
    (repo / "schemas" / "shop.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Three versions of a catalog: v1; a compatible change (a field added); a breaking one
    (a field made required) that is also what the working tree holds."""
    _git(tmp_path, "init", "-q", "-b", "main")
    data = copy.deepcopy(BASE)
    _commit(tmp_path, data, "first catalog")
    data["events"]["orderPlaced"]["payload"]["properties"]["coupon"] = {"type": "string"}
    _commit(tmp_path, data, "orders: coupons")
    _git(tmp_path, "tag", "v2")
    data["events"]["orderPlaced"]["payload"]["required"].append("note")
    _commit(tmp_path, data, "orders: note required")
    return tmp_path


def _docs(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tidings", "docs", *args], cwd=repo,
                          capture_output=True, text=True, check=False)


def test_history_lists_versions_and_findings(repo: Path) -> None:
    catalog = load_catalog(repo / "schemas")
    history = load_history(repo / "schemas", catalog)
    steps = history.steps["orderPlaced"]
    assert [s.commit.subject if s.commit else None for s in steps] == [
        "orders: note required", "orders: coupons", "first catalog"]
    newest, middle, oldest = steps
    assert [f.rule.name for f in newest.findings] == ["required-added"]
    assert newest.breaking and not middle.breaking
    assert [f.rule.name for f in middle.findings] == ["property-added"]
    assert oldest.oldest and oldest.findings == ()
    assert len(history.steps["orderPaid"]) == 1  # never changed


def test_html_site_shows_history_and_changes_since_ref(repo: Path) -> None:
    done = _docs(repo, "--against", "v2")
    assert done.returncode == 0, done.stderr
    page = (repo / "site" / "messages" / "orderPlaced.html").read_text()
    assert "Changed since v2" in page and "required-added" in page
    assert page.count('<li class="breaking">') == 1
    assert "orders: coupons" in page and "first catalog" in page
    assert "Changed since v2" not in (repo / "site" / "messages" / "orderPaid.html").read_text()
    changes = (repo / "site" / "changes.html").read_text()
    assert 'href="messages/orderPlaced.html"' in changes


def test_markdown_site_has_mermaid_and_tables(repo: Path) -> None:
    done = _docs(repo, "--format", "markdown", "--out", "md")
    assert done.returncode == 0, done.stderr
    index = (repo / "md" / "index.md").read_text()
    assert "```mermaid\nflowchart LR\n" in index
    assert "ctx_orders -->|emits| msg_orderPlaced" in index
    assert "| [orderPlaced](messages/orderPlaced.md) | event | 1 |" in index
    page = (repo / "md" / "messages" / "orderPlaced.md").read_text()
    assert "| `status` | one of \"new\", \"paid\", \"shipped\" | yes |" in page
    assert "- Publish: `shop.publishers.orders.emit_order_placed`" in page
    for path in (repo / "md").rglob("*.md"):  # every relative link resolves
        for target in __import__("re").findall(r"\]\(([^)#]+)", path.read_text()):
            assert (path.parent / target).is_file(), (path, target)


def test_outside_git_the_site_says_so(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    done = _docs(tmp_path, "--out", "site")
    assert done.returncode == 0, done.stderr
    assert "No git history" in (tmp_path / "site" / "messages" / "shipmentCreated.html").read_text()


def test_graphviz_layout(tmp_path: Path) -> None:
    if shutil.which("dot") is None:
        reason = "Graphviz (apt-get install -y graphviz) for the dot layout"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI requires {reason}", pytrace=False)
        pytest.skip(reason)
    catalog = load_catalog(ROOT / "schemas")
    svg = overview_svg(catalog, {}, "dot")
    assert svg.startswith("<svg") and svg.count('class="node') == 6 + 15
    assert 'id="msg_documentUploaded"' in svg and "cluster" in svg
    build_site(catalog, tmp_path / "site", layout="dot")
    assert 'class="node' in (tmp_path / "site" / "index.html").read_text()


def test_bad_ref_is_one_line_exit_2(repo: Path) -> None:
    done = _docs(repo, "--against", "nope")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "nope" in done.stderr


def test_missing_catalog_is_one_line_exit_2(tmp_path: Path) -> None:
    done = _docs(tmp_path, "--catalog", "nowhere")
    assert done.returncode == 2
    assert done.stderr.strip() == "error: nowhere: no such catalog directory; pass --catalog DIR"
