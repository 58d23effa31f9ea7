"""Benchmark of `tidings check` (issue 5's figures; a benchmark, not a test).

- a 1,000-event catalog against a git baseline in which 5% of the payloads changed: the full check
  time (goal: at most 1 s on this machine) and the time per event, in process and as the CLI;
- the _TRANSITIVE check across 20 git versions of the catalog.

Ratios are printed against the issue's goal (1 s), measured in the same run.

    .venv/bin/python benchmarks/check.py [--events 1000] [--versions 20] [--confluent DIR]

With --confluent DIR (Confluent's diff-*.json test data, not part of tidings) it first prints
benchmarks/confluent_parity.py's agreement figures and the share of breaking findings that came
with a witness.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from tidings.catalog import load_catalog
from tidings.checker import (
    CheckSettings,
    catalog_orphans,
    compare_catalogs,
    load_git_baseline,
    run_check,
)

GOAL_SECONDS = 1.0
ENV = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com",
       "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}
CONTEXTS = ["core", "tracking", "tasks", "email", "metis", "salesforce", "billing", "customs"]
FILES = 10


def payload(i: int, variant: int) -> dict[str, Any]:
    props: dict[str, Any] = {
        "id": {"type": "string", "format": "uuid"},
        "at": {"type": "string", "format": "date-time"},
        "amount": {"$ref": "common.yaml#/$defs/Money"},
        "status": {"type": "string", "enum": ["new", "open", "done", "failed"]},
        "count": {"type": "integer", "minimum": 0, "maximum": 1000},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 30}, "maxItems": 10},
        "meta": {"type": "object", "properties": {"source": {"type": "string"},
                                                  "attempt": {"type": "integer"}},
                 "required": ["source"]},
        "note": {"type": ["string", "null"], "maxLength": 500},
    }
    required = ["id", "at", "status"]
    kind = (i // 20 + variant) % 5
    if variant:
        if kind == 0:
            props["status"]["enum"] = props["status"]["enum"] + [f"v{variant}"]  # compatible
        elif kind == 1:
            props[f"extra{variant}"] = {"type": "string"}  # compatible (lenient)
        elif kind == 2:
            props["count"]["maximum"] = 1000 - variant  # narrowing: breaks BACKWARD
        elif kind == 3:
            required = [*required, "count"]  # required added: breaks BACKWARD
        else:
            props["tags"]["items"]["maxLength"] = 30 + variant  # widening: fine for BACKWARD
    return {"type": "object", "required": required, "properties": props}


def catalog_files(events: int, changed: dict[int, int], compatibility: str) -> dict[str, str]:
    files: dict[str, str] = {
        "common.yaml": yaml.safe_dump({"$defs": {"Money": {
            "type": "object", "required": ["amount", "currency"],
            "properties": {"amount": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"},
                           "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]}},
            "additionalProperties": False}}}, sort_keys=False),
    }
    per_file = events // FILES
    for f in range(FILES):
        evs: dict[str, Any] = {}
        for i in range(f * per_file, (f + 1) * per_file):
            evs[f"event{i:04d}Happened"] = {
                "producers": [CONTEXTS[i % len(CONTEXTS)]],
                "consumers": [CONTEXTS[(i + 1) % len(CONTEXTS)], CONTEXTS[(i + 3) % len(CONTEXTS)]],
                "payload": payload(i, changed.get(i, 0)),
            }
        doc: dict[str, Any] = {"events": evs}
        if f == 0:
            doc = {"catalog": "bench", "contexts": {c: {} for c in CONTEXTS},
                   "defaults": {"compatibility": compatibility}, **doc}
        files[f"part{f:02d}.yaml"] = yaml.safe_dump(doc, sort_keys=False)
    return files


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / "schemas" / name).write_text(text)


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env=ENV, check=True, capture_output=True)


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--confluent", type=Path, default=None,
                        help="Confluent's diff-*.json test data: also print the witness share")
    args = parser.parse_args()
    if args.confluent is not None:
        sys.path.insert(0, str(Path(__file__).parent))
        from confluent_parity import main as parity

        parity([str(args.confluent), "--budget", "0.05"])
        print()
    n = args.events
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "schemas").mkdir()
        git(root, "init", "-q", "-b", "main")
        write(root, catalog_files(n, {}, "BACKWARD"))
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "baseline")
        step = 20  # 5% of the events change
        changed = {i: 1 for i in range(0, n, step)}
        write(root, catalog_files(n, changed, "BACKWARD"))
        os.chdir(root)
        settings = CheckSettings(schemas=Path("schemas"), against="main")
        seconds, result = timed(lambda: run_check(settings, cwd=root), args.repeat)
        errors = sum(1 for f in result.findings if f.severity.value == "error")
        print(f"catalog: {n} events in {FILES + 1} files; {len(changed)} payloads changed "
              f"({100 * len(changed) / n:.0f}%, spread over every file); {errors} breaking findings")
        print(f"full check (in process, median of {args.repeat}): {seconds * 1000:.0f} ms = "
              f"{seconds / GOAL_SECONDS:.2f}x the 1 s goal; {seconds / n * 1e6:.0f} us per event")
        load_s, current = timed(lambda: load_catalog(root / "schemas"), args.repeat)
        texts = {p.name: p.read_text() for p in (root / "schemas").glob("*.yaml")}
        base_s, baseline = timed(
            lambda: load_git_baseline(root / "schemas", "main", current=texts), args.repeat)
        cmp_s, found = timed(lambda: (catalog_orphans(current),
                                      compare_catalogs(current, baseline)), args.repeat)
        bare_s, _ = timed(lambda: (catalog_orphans(current),
                                   compare_catalogs(current, baseline, witness_budget=None)),
                          args.repeat)
        print(f"  of which: loading the current catalog {load_s * 1000:.0f} ms (tidings.catalog), "
              f"the git baseline {base_s * 1000:.0f} ms (git, YAML, tidings.catalog on the changed "
              f"messages), orphans + "
              f"compatibility {cmp_s * 1000:.0f} ms = {cmp_s / n * 1e6:.0f} us per event")
        broke = [f for f in found[1] if f.broken]
        proven = sum(1 for f in broke if f.witness is not None)
        print(f"  witnesses: {proven}/{len(broke)} breaking findings proven by an example message; "
              f"compatibility with witnesses {cmp_s * 1000:.0f} ms vs without (baseline, same run) "
              f"{bare_s * 1000:.0f} ms = {cmp_s / bare_s:.2f}x; full check without witnesses "
              f"~{(seconds - cmp_s + bare_s) * 1000:.0f} ms")
        write(root, catalog_files(n, {i: 1 for i in range(n // FILES // 2)}, "BACKWARD"))
        local_s, _ = timed(lambda: run_check(settings, cwd=root), args.repeat)
        print(f"full check, the same 5% changed in one file (in process): {local_s * 1000:.0f} ms "
              f"= {local_s / GOAL_SECONDS:.2f}x the 1 s goal")
        write(root, catalog_files(n, changed, "BACKWARD"))
        cli_seconds, _ = timed(lambda: subprocess.run(
            [sys.executable, "-m", "tidings", "check", "--against", "main", "--format", "json"],
            cwd=root, capture_output=True, check=False), args.repeat)
        print(f"full check (CLI subprocess, interpreter start included): {cli_seconds * 1000:.0f} ms"
              f" = {cli_seconds / GOAL_SECONDS:.2f}x the 1 s goal")

        # Transitive: `versions` commits, each changing another 5%, all BACKWARD_TRANSITIVE.
        for v in range(1, args.versions + 1):
            changed_v = {i: v for i in range(v % step, n, step)}
            write(root, catalog_files(n, changed_v, "BACKWARD_TRANSITIVE"))
            git(root, "add", "-A")
            git(root, "commit", "-q", "-m", f"v{v}")
        final = {i: args.versions + 1 for i in range(0, n, step)}
        write(root, catalog_files(n, final, "BACKWARD_TRANSITIVE"))
        seconds_t, result_t = timed(lambda: run_check(settings, cwd=root), 1)
        print(f"transitive check across {args.versions + 1} git versions: "
              f"{seconds_t * 1000:.0f} ms = {seconds_t / GOAL_SECONDS:.2f}x the 1 s goal; "
              f"{seconds_t / n * 1e6:.0f} us per event; {len(result_t.findings)} findings")


if __name__ == "__main__":
    main()
