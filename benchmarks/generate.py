"""Benchmark of `tidings generate` against datamodel-code-generator on the same payloads.

Builds a synthetic catalog of 500 events (10 fields each, shared `$defs` in a second file) in a
temporary directory and prints, from one run:

- our full `tidings generate` (a fresh process: catalog load, models, templates, atomic write);
- datamodel-code-generator alone on the same 500 payloads in one combined run (a fresh process,
  the same options tidings uses), and the ratio of the two (goal <= 1.3);
- the no-op re-run of `tidings generate` on the unchanged catalog (goal <= 0.3 s);
- the same on the committed corpus of JSON Schema files (tests/corpus, drafts 7 to 2020-12);
- `tidings generate --check` on the repository's example (goal <= 1 s), with and without
  trusting the stored input hash.

Each figure is the best of a few runs (the machine is shared). Run: `python benchmarks/generate.py`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
EVENTS = 500
FIELDS = 10
RUNS = int(os.environ.get("BENCH_RUNS", "3"))

DATAMODEL_ONLY = """
import json, sys, time
from datamodel_code_generator import generate
from tidings.generator._models import datamodel_options
bundle = open(sys.argv[1], encoding="utf-8").read()
source = generate(bundle, **datamodel_options(sys.argv[3]))
open(sys.argv[2], "w", encoding="utf-8").write(source)
"""
CORPUS = ROOT / "tests" / "corpus" / "schemas"


PHASES = """
import sys, time
t0 = time.perf_counter()
import tidings.cli
from tidings.catalog import load_catalog
from tidings.generator import _render
t1 = time.perf_counter()
catalog = load_catalog(sys.argv[1])
t2 = time.perf_counter()
models = _render.render_models
timing = {}
def timed_models(*args, **kwargs):
    start = time.perf_counter()
    try:
        return models(*args, **kwargs)
    finally:
        timing["models"] = time.perf_counter() - start
_render.render_models = timed_models
_render.render_package(catalog)
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, timing["models"], t3 - t2 - timing["models"])
"""


def synthetic_catalog(directory: Path) -> None:
    """Write `catalog.yaml` (500 events) and `common.yaml` (the shared definitions)."""
    contexts = [f"context{i}" for i in range(10)]
    common = {
        "$defs": {
            "Money": {
                "type": "object",
                "required": ["amount", "currency"],
                "properties": {
                    "amount": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]{1,4})?$"},
                    "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]},
                },
            },
            "PortCode": {"type": "string", "pattern": "^[A-Z]{2}[A-Z2-9]{3}$"},
            "Address": {
                "type": "object",
                "required": ["city", "country"],
                "properties": {
                    "street": {"type": "string"},
                    "city": {"type": "string", "minLength": 1},
                    "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
                },
            },
        }
    }
    kinds: list[dict[str, Any]] = [
        {"type": "string", "format": "uuid"},
        {"type": "string", "maxLength": 200, "description": "A free text."},
        {"type": "integer", "minimum": 0},
        {"type": "number", "minimum": 0, "maximum": 1e9},
        {"type": "boolean", "default": False},
        {"type": "string", "format": "date-time"},
        {"type": "string", "enum": ["draft", "open", "closed"]},
        {"type": "array", "items": {"type": "string"}, "maxItems": 20},
        {"$ref": "common.yaml#/$defs/Money"},
        {"$ref": "common.yaml#/$defs/PortCode"},
        {"$ref": "common.yaml#/$defs/Address"},
    ]
    events: dict[str, Any] = {}
    for index in range(EVENTS):
        properties = {
            f"field{f}Value": kinds[(index + f) % len(kinds)] for f in range(FIELDS)
        }
        events[f"event{index:03d}Happened"] = {
            "description": f"Synthetic event number {index}.",
            "producers": [contexts[index % 10]],
            "consumers": [contexts[(index + 1) % 10], contexts[(index + 3) % 10]],
            "payload": {
                "type": "object",
                "required": [f"field{f}Value" for f in range(0, FIELDS, 2)],
                "properties": properties,
            },
        }
    catalog = {
        "catalog": "synthetic",
        "description": "A synthetic catalog for the generator benchmark.",
        "contexts": {name: {} for name in contexts},
        "events": events,
    }
    (directory / "common.yaml").write_text(yaml.safe_dump(common, sort_keys=False))
    (directory / "catalog.yaml").write_text(yaml.safe_dump(catalog, sort_keys=False))


def timed(command: list[str], cwd: Path = ROOT) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return elapsed, result


def best(command: list[str], runs: int = RUNS, before: Any = None) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        times.append(timed(command)[0])
    return min(times), statistics.median(times)


def measure(label: str, schemas: Path, work: Path) -> list[str]:
    """The figures of one catalog: full generate, datamodel-code-generator alone on the very
    input tidings gives it (the prepared bundle, same options), their ratio, the no-op re-run."""
    python = sys.executable
    slug = label.split()[0]
    out = work / f"generated-{slug}"
    sys.path.insert(0, str(ROOT))
    from tidings.catalog import load_catalog
    from tidings.generator._codegen_schema import codegen_schema

    catalog = load_catalog(schemas)
    prepared = codegen_schema(catalog.bundle())
    (work / f"{slug}.json").write_text(json.dumps(prepared, ensure_ascii=True))

    def wipe() -> None:
        import shutil

        shutil.rmtree(out, ignore_errors=True)

    command = [python, "-m", "tidings", "generate", "--schemas", str(schemas), "--out", str(out)]
    ours = best(command, before=wipe)
    theirs = best([python, "-c", DATAMODEL_ONLY, str(work / f"{slug}.json"),
                   str(work / f"{slug}-models.py"), catalog.name])
    phases = [float(x) for x in timed([python, "-c", PHASES, str(schemas)])[1].stdout.split()]
    noop = best(command)
    package = out / catalog.name
    models = (package / "models.py").read_text()
    lines = sum(len(p.read_text().splitlines()) for p in package.rglob("*.py"))
    return [
        f"{label}: {len(catalog.messages())} messages, {len(catalog.files)} files; "
        f"{models.count('class ')} model classes, {lines} lines of Python",
        f"  tidings generate (full, fresh process)   {ours[0]:7.3f} s  {ours[1]:7.3f} s",
        f"  datamodel-code-generator alone (same)    {theirs[0]:7.3f} s  {theirs[1]:7.3f} s",
        f"  ratio tidings / datamodel-codegen        {ours[0] / theirs[0]:7.2f}    "
        f"{ours[1] / theirs[1]:7.2f}    <= 1.3",
        f"  no-op re-run (inputs unchanged)          {noop[0]:7.3f} s  {noop[1]:7.3f} s    <= 0.3 s",
        f"  phases (one process): imports {phases[0]:.3f} s, load_catalog {phases[1]:.3f} s, "
        f"datamodel-code-generator {phases[2]:.3f} s, templates + checks {phases[3]:.3f} s",
    ]


def main() -> None:
    python = sys.executable
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        schemas = work / "schemas"
        schemas.mkdir()
        synthetic_catalog(schemas)
        report = measure("synthetic", schemas, work)
        report += measure("corpus (tests/corpus: JSON Schema files, 3 drafts)", CORPUS, work)
    check = best([python, "-m", "tidings", "generate", "--check"])
    check_forced = best([python, "-m", "tidings", "generate", "--check", "--force"])
    startup = best([python, "-c", "import tidings.cli"])
    print("figure                                     best      median   goal")
    print("\n".join(report))
    print(f"generate --check on the example            {check[0]:7.3f} s  {check[1]:7.3f} s    <= 1 s")
    print(f"generate --check --force on the example    {check_forced[0]:7.3f} s  "
          f"{check_forced[1]:7.3f} s")
    print(f"(python startup + import tidings.cli       {startup[0]:7.3f} s)")


if __name__ == "__main__":
    main()
