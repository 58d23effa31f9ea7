"""Fixtures of the generator tests: catalogs written to temporary directories, the CLI as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

RunCli = Callable[..., subprocess.CompletedProcess[str]]
WriteCatalog = Callable[..., Path]


@pytest.fixture
def run_cli() -> RunCli:
    """Run `python -m tidings ARGS` in `cwd` (default: the repository root), as a user would."""

    def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.run(
            [sys.executable, "-m", "tidings", *args],
            cwd=cwd, env=env, capture_output=True, text=True, check=False,
        )

    return run


def minimal_catalog(name: str = "shop", **events: dict[str, Any]) -> dict[str, Any]:
    """A small valid catalog: contexts a and b, the given events (default: one, `orderPlaced`)."""
    if not events:
        events = {
            "orderPlaced": {
                "description": "A customer placed an order.",
                "producers": ["a"],
                "consumers": ["b"],
                "payload": {
                    "type": "object",
                    "required": ["orderId"],
                    "properties": {"orderId": {"type": "string"}, "total": {"type": "number"}},
                },
            }
        }
    return {
        "catalog": name,
        "contexts": {"a": {}, "b": {}},
        "events": events,
    }


@pytest.fixture
def write_catalog(tmp_path: Path) -> WriteCatalog:
    """Write catalog dicts as YAML files into `tmp_path/schemas` (or `directory`) and return it."""

    def write(*documents: dict[str, Any], directory: Path | None = None, text: str | None = None) -> Path:
        target = directory or tmp_path / "schemas"
        target.mkdir(parents=True, exist_ok=True)
        for old in target.glob("*.yaml"):
            old.unlink()
        if text is not None:
            (target / "catalog.yaml").write_text(text, encoding="utf-8")
        for index, document in enumerate(documents):
            (target / f"catalog{index}.yaml").write_text(
                yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8"
            )
        return target

    return write


@pytest.fixture
def catalog_doc() -> Callable[..., dict[str, Any]]:
    """`minimal_catalog` as a fixture."""
    return minimal_catalog
