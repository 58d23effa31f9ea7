"""Benchmark of `tidings docs` (a benchmark, not a test).

A 1,000-event catalog (benchmarks/check.py's, 10 files + common.yaml) with 200 git versions of
history, each version changing 5 payloads. Prints, from one run: the whole build in process
(load, history from git, pages) against the 10 s goal, its parts, and for reference measured in
the same run on the same repository: loading the catalog alone and the checker's own reading of
the same git history (`load_git_history`, what a _TRANSITIVE check reads), the floor under the
history step.

    .venv/bin/python benchmarks/docs.py [--events 1000] [--versions 200]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from tidings.catalog import load_catalog
from tidings.checker import load_git_history
from tidings.site import build_site, load_history

HERE = Path(__file__).resolve().parent
GOAL_SECONDS = 10.0


def _check_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_bench_check", HERE / "check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_files(root: Path, bench: ModuleType, n: int, variants: dict[int, int],
                touched: set[int] | None) -> None:
    """benchmarks/check.py's catalog (block-style YAML, written by libyaml), rewriting only the
    files holding a `touched` event (every file when None)."""
    per_file = n // bench.FILES
    if touched is None:
        money = bench.catalog_files(1 * bench.FILES, {}, "BACKWARD")["common.yaml"]
        (root / "schemas" / "common.yaml").write_text(money)
    for f in range(bench.FILES):
        events = range(f * per_file, (f + 1) * per_file)
        if touched is not None and not touched.intersection(events):
            continue
        doc: dict[str, Any] = {"events": {
            f"event{i:04d}Happened": {
                "producers": [bench.CONTEXTS[i % len(bench.CONTEXTS)]],
                "consumers": [bench.CONTEXTS[(i + 1) % len(bench.CONTEXTS)],
                              bench.CONTEXTS[(i + 3) % len(bench.CONTEXTS)]],
                "payload": bench.payload(i, variants.get(i, 0)),
            } for i in events}}
        if f == 0:
            doc = {"catalog": "bench", "contexts": {c: {} for c in bench.CONTEXTS},
                   "defaults": {"compatibility": "BACKWARD"}, **doc}
        text = yaml.dump(doc, Dumper=yaml.CSafeDumper, sort_keys=False)
        (root / "schemas" / f"part{f:02d}.yaml").write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=200)
    args = parser.parse_args()
    bench = _check_module()
    n = args.events
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "schemas").mkdir()
        bench.git(root, "init", "-q", "-b", "main")
        t0 = time.perf_counter()
        variants: dict[int, int] = {}
        for v in range(args.versions):
            touched = {(v * 5 + k) % n for k in range(5)}
            variants.update({i: v // 40 + 1 for i in touched})
            write_files(root, bench, n, variants, None if v == 0 else touched)
            bench.git(root, "add", "-A")
            bench.git(root, "commit", "-q", "-m", f"v{v}")
        print(f"repository: {n} events, {args.versions} commits ({time.perf_counter() - t0:.1f} s to make)")
        schemas = root / "schemas"

        t0 = time.perf_counter()
        catalog = load_catalog(schemas)
        t1 = time.perf_counter()
        history = load_history(schemas, catalog)
        t2 = time.perf_counter()
        report = build_site(catalog, root / "site", history=history)
        t3 = time.perf_counter()
        total = t3 - t0
        steps = sum(len(s) for s in history.steps.values())
        print(f"tidings docs (in process): {total:.2f} s = {total / GOAL_SECONDS:.2f}x the 10 s goal; "
              f"{len(report.pages)} pages, {history.versions} catalog versions, {steps} history steps")
        print(f"  of which: load {t1 - t0:.2f} s, history {t2 - t1:.2f} s, pages {t3 - t2:.2f} s")

        b0 = time.perf_counter()
        load_catalog(schemas)
        b1 = time.perf_counter()
        load_git_history(schemas, "HEAD", only=[m.name for m in catalog.messages()])
        b2 = time.perf_counter()
        print(f"baseline (same run): load_catalog {b1 - b0:.2f} s; the checker's load_git_history over "
              f"the same history {b2 - b1:.2f} s; history step / that = {(t2 - t1) / (b2 - b1):.2f}x")

        shutil.rmtree(root / "site")
        c0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tidings", "docs", "--catalog", str(schemas), "--out",
                        str(root / "site")], check=True, capture_output=True, cwd=root)
        cli = time.perf_counter() - c0
        print(f"tidings docs (CLI subprocess, interpreter start included): {cli:.2f} s = "
              f"{cli / GOAL_SECONDS:.2f}x the 10 s goal")


if __name__ == "__main__":
    main()
