"""Benchmark of `tidings.catalog.load_catalog` (a benchmark, not a test).

Loads the synthetic catalogs of `benchmarks/check.py` (1,000 events in 10 files plus a shared
`common.yaml`) and of `benchmarks/generate.py` (500 events in one file), and prints, from one run:

- the load time (best of a few runs) and the time per event;
- for reference, measured in the same run on the same files: `yaml.load` with `CSafeLoader`
  (the floor of parsing alone) and one `jsonschema` 2020-12 meta-schema validation pass over every
  payload (what checking each payload with `jsonschema` alone costs), with the official
  meta-schema and with the static copy `tidings.catalog` uses to word errors.

    .venv/bin/python benchmarks/catalog.py [--runs 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from tidings.catalog import load_catalog
from tidings.catalog._metaschema import meta_validator

HERE = Path(__file__).resolve().parent


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def best(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def payloads(directory: Path) -> list[Any]:
    found: list[Any] = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        for section in ("events", "commands"):
            found += [body["payload"] for body in (data.get(section) or {}).values()]
        found += list((data.get("$defs") or {}).values())
    return found


def measure(label: str, directory: Path, events: int, runs: int) -> None:
    texts = [p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.yaml"))]
    schemas = payloads(directory)
    validator = Draft202012Validator(Draft202012Validator.META_SCHEMA,
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)

    static = meta_validator()

    def meta() -> None:
        for schema in schemas:
            for _ in validator.iter_errors(schema):
                pass

    def meta_static() -> None:
        for schema in schemas:
            for _ in static.iter_errors(schema):
                pass

    load = best(lambda: load_catalog(directory), runs)
    parse = best(lambda: [yaml.load(t, Loader=yaml.CSafeLoader) for t in texts], runs)
    check = best(meta, max(1, runs // 2))
    check_static = best(meta_static, max(1, runs // 2))
    print(f"{label}: {events} events, {len(texts)} files")
    print(f"  load_catalog                       {load:7.3f} s  ({load / events * 1e3:.2f} ms/event)")
    print(f"  reference: yaml.load CSafeLoader   {parse:7.3f} s  (load is {load / parse:.1f}x)")
    print(f"  reference: jsonschema meta pass    {check:7.3f} s  (load is {load / check:.2f}x; "
          "official 2020-12 meta-schema)")
    print(f"  reference: jsonschema static meta  {check_static:7.3f} s  (load is "
          f"{load / check_static:.2f}x; the $dynamicRef-free copy tidings words errors with)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    check = _module("check")
    generate = _module("generate")
    with tempfile.TemporaryDirectory() as tmp:
        for events in (500, 1000):
            directory = Path(tmp) / f"check{events}"
            directory.mkdir()
            for name, text in check.catalog_files(events, {}, "BACKWARD").items():
                (directory / name).write_text(text, encoding="utf-8")
            measure("check.py catalog", directory, events, args.runs)
        directory = Path(tmp) / "generate"
        directory.mkdir()
        generate.synthetic_catalog(directory)
        measure("generate.py catalog", directory, generate.EVENTS, args.runs)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
