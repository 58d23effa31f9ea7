"""The documentation site builds with `mkdocs build --strict` (a broken link, a missing page, a
docstring mkdocstrings cannot render or a generated page that fails is an error), and its
generated pages hold what the tools print."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs._pages import ROOT, shell_env


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=ROOT, env={**shell_env(), "NO_MKDOCS_2_WARNING": "1",
                                         "DISABLE_MKDOCS_2_WARNING": "true"},
                          capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    return out


def _text(page: Path) -> str:
    return re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8"))


def test_every_checker_rule_has_a_row(site: Path) -> None:
    listed = subprocess.run([sys.executable, "-m", "tidings", "check", "--list-rules"],
                            capture_output=True, text=True, check=True).stdout
    ids = re.findall(r"^(TID-[A-Z]\d+)", listed, re.M)
    assert len(ids) > 50
    page = _text(site / "reference" / "checker-rules" / "index.html")
    assert [i for i in ids if i not in page] == []


def test_the_cli_page_documents_every_command(site: Path) -> None:
    from tidings.cli import main

    page = _text(site / "reference" / "cli" / "index.html")
    import click

    names = main.list_commands(click.Context(main))
    assert "init" in names and "generate" in names
    assert [n for n in names if f"tidings {n}" not in page] == []


def test_the_catalog_keys_page_lists_every_key_of_the_format(site: Path) -> None:
    from tidings.catalog import catalog_format_schema

    schema = catalog_format_schema()
    page = _text(site / "reference" / "catalog-keys" / "index.html")
    keys = list(schema["properties"]) + list(schema["$defs"]["event"]["properties"])
    assert [k for k in keys if k not in page] == []


def test_the_python_api_page_documents_the_public_runtime(site: Path) -> None:
    import tidings.runtime

    page = _text(site / "reference" / "python-api" / "index.html")
    assert [n for n in tidings.runtime.__all__ if n not in page] == []
    assert "EventBus" in page and "publish" in page


def test_every_page_is_in_the_navigation(site: Path) -> None:
    """A page put in docs/ (by hand, or generated) is reachable from the navigation: listed in
    docs/.nav.yml, or picked up by its section's folder pattern."""
    home = (site / "index.html").read_text(encoding="utf-8")
    nav = home[home.index("md-nav--primary"):home.index("md-sidebar--secondary")]
    linked = {href.split("#")[0].strip("./").rstrip("/") for href in re.findall(r'href="([^"]+)"', nav)}
    pages = [p.relative_to(site).parent.as_posix() for p in site.rglob("index.html")]
    missing = [p for p in pages if p not in (".", "404", "search") and p not in linked]
    assert sorted(missing) == []
