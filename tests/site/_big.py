"""A large synthetic catalog: the one benchmarks/check.py measures the checker on."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from tidings.catalog import Catalog, load_catalog

ROOT = Path(__file__).resolve().parents[2]


def bench_check() -> ModuleType:
    """benchmarks/check.py as a module (its `catalog_files` and `payload` builders)."""
    spec = importlib.util.spec_from_file_location("_bench_check", ROOT / "benchmarks" / "check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def big_catalog(directory: Path, events: int) -> Catalog:
    """Write a catalog of `events` events (10 files and a shared common.yaml) under
    `directory`/schemas and load it."""
    schemas = directory / "schemas"
    schemas.mkdir(parents=True, exist_ok=True)
    for name, text in bench_check().catalog_files(events, {}, "BACKWARD").items():
        (schemas / name).write_text(text)
    return load_catalog(schemas)
