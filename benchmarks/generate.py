"""Benchmark of `tidings generate` against datamodel-code-generator on the same payloads.

Builds a synthetic catalog of 500 events (10 fields each, shared `$defs` in a second file) in a
temporary directory and prints, from one run:

- our full `tidings generate` (a fresh process: catalog load, models, templates, atomic write);
- datamodel-code-generator alone on the same 500 payloads in one combined run (a fresh process,
  the same options tidings uses), and the ratio of the two (goal <= 1.3);
- the no-op re-run of `tidings generate` on the unchanged catalog (goal <= 0.5 s);
- `tidings generate --check` on the repository's example (goal <= 1 s), with and without
  trusting the stored input hash.

Each figure is the best of a few runs (the machine is shared). Run: `python benchmarks/generate.py`.
"""

from __future__ import annotations

import json
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
RUNS = 3

DATAMODEL_ONLY = """
import json, sys, time
from datamodel_code_generator import generate
from tidings.generator._models import datamodel_options
bundle = open(sys.argv[1], encoding="utf-8").read()
source = generate(bundle, **datamodel_options("synthetic"))
open(sys.argv[2], "w", encoding="utf-8").write(source)
"""


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
def timed_models(*args):
    start = time.perf_counter()
    try:
        return models(*args)
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


def main() -> None:
    python = sys.executable
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        schemas = work / "schemas"
        schemas.mkdir()
        synthetic_catalog(schemas)
        out = work / "generated"

        sys.path.insert(0, str(ROOT))
        from tidings.catalog import load_catalog

        bundle = load_catalog(schemas).bundle()
        (work / "bundle.json").write_text(json.dumps(bundle, ensure_ascii=True))

        def wipe() -> None:
            import shutil

            shutil.rmtree(out, ignore_errors=True)

        ours = best(
            [python, "-m", "tidings", "generate", "--schemas", str(schemas), "--out", str(out)],
            before=wipe,
        )
        theirs = best(
            [python, "-c", DATAMODEL_ONLY, str(work / "bundle.json"), str(work / "models.py")]
        )
        phases = [
            float(x)
            for x in timed([python, "-c", PHASES, str(schemas)])[1].stdout.split()
        ]
        noop = best([python, "-m", "tidings", "generate", "--schemas", str(schemas), "--out", str(out)])
        models = (out / "synthetic" / "models.py").read_text()
        lines = sum(len(p.read_text().splitlines()) for p in (out / "synthetic").rglob("*.py"))

    check = best([python, "-m", "tidings", "generate", "--check"])
    check_forced = best([python, "-m", "tidings", "generate", "--check", "--force"])
    startup = best([python, "-c", "import tidings.cli"])

    print(f"synthetic catalog: {EVENTS} events x {FIELDS} fields, shared $defs in a second file")
    print(f"generated: {models.count('class ')} model classes, {lines} lines of Python")
    print("figure                                   best      median   goal")
    print(f"tidings generate (full, fresh process)   {ours[0]:7.3f} s  {ours[1]:7.3f} s")
    print(f"datamodel-code-generator alone (same)    {theirs[0]:7.3f} s  {theirs[1]:7.3f} s")
    print(f"ratio tidings / datamodel-codegen        {ours[0] / theirs[0]:7.2f}    "
          f"{ours[1] / theirs[1]:7.2f}    <= 1.3")
    print(f"no-op re-run (inputs unchanged)          {noop[0]:7.3f} s  {noop[1]:7.3f} s    <= 0.5 s")
    print(f"generate --check on the example          {check[0]:7.3f} s  {check[1]:7.3f} s    <= 1 s")
    print(f"generate --check --force on the example  {check_forced[0]:7.3f} s  {check_forced[1]:7.3f} s")
    print(f"(python startup + import tidings.cli     {startup[0]:7.3f} s)")
    print(
        "phases of one full run (in one process): import tidings.cli + generator "
        f"{phases[0]:.3f} s, load_catalog {phases[1]:.3f} s, datamodel-code-generator "
        f"{phases[2]:.3f} s, templates + checks {phases[3]:.3f} s"
    )


if __name__ == "__main__":
    main()
