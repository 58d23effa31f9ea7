"""Benchmark of `tidings export asyncapi` (a benchmark, not a test).

Exports the 1,000-event catalog of benchmarks/check.py and prints the export (building the
document) and the export plus YAML text against the 1 s goal, with, for reference measured in
the same run: `Catalog.bundle()` alone (copying every payload schema, the floor of any export)
and `yaml.dump` of that bundle (the floor of writing it as YAML).

    .venv/bin/python benchmarks/asyncapi.py [--events 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from tidings.asyncapi import dump_document, export_asyncapi, import_asyncapi
from tidings.catalog import load_catalog

HERE = Path(__file__).resolve().parent
GOAL_SECONDS = 1.0


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bench = _module("check")
    best = _module("catalog").best  # one timing helper for the benchmarks
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "schemas").mkdir()
        bench.write(root, bench.catalog_files(args.events, {}, "BACKWARD"))
        catalog = load_catalog(root / "schemas")
    doc = export_asyncapi(catalog)
    export_s = best(lambda: export_asyncapi(catalog), args.runs)
    text_s = best(lambda: dump_document(export_asyncapi(catalog), False), args.runs)
    json_s = best(lambda: dump_document(export_asyncapi(catalog), True), args.runs)
    bundle_s = best(catalog.bundle, args.runs)
    bundle = catalog.bundle()
    dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    yaml_s = best(lambda: yaml.dump(bundle, Dumper=dumper, sort_keys=False), args.runs)
    import_s = best(lambda: import_asyncapi(doc), args.runs)
    print(f"catalog: {args.events} events; document: {len(doc['channels'])} channels, "
          f"{len(doc['operations'])} operations, {len(doc['components']['schemas'])} schemas")
    print(f"export (document): {export_s * 1000:.0f} ms = {export_s / GOAL_SECONDS:.2f}x the 1 s goal")
    print(f"export + YAML text: {text_s * 1000:.0f} ms = {text_s / GOAL_SECONDS:.2f}x the goal; "
          f"+ JSON text: {json_s * 1000:.0f} ms")
    print(f"baseline (same run): Catalog.bundle() {bundle_s * 1000:.0f} ms (export / bundle = "
          f"{export_s / bundle_s:.1f}x); yaml.dump of the bundle {yaml_s * 1000:.0f} ms (export + YAML "
          f"/ that = {text_s / yaml_s:.1f}x)")
    print(f"import of that document (back to catalog data): {import_s * 1000:.0f} ms")


if __name__ == "__main__":
    main()
