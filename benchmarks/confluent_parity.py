"""Parity with Confluent Schema Registry's JSON Schema diff test data.

Usage: python benchmarks/confluent_parity.py DIR [--verbose]

DIR holds Confluent's test resources (json-schema-provider/src/test/resources/diff-*.json from
the public confluentinc/schema-registry repository; they are not part of tidings). Each case has
`original_schema`, `update_schema`, `compatible` (Confluent's strict verdict) and optionally
`compatible_lenient`; both are BACKWARD verdicts (readers on the update read the original's data).

Printed: agreement of tidings' `strict` and `lenient` policies with Confluent's strict and lenient
verdicts, of the `confluent` policy with Confluent's lenient verdicts; for every disagreement the
witness (a message the original accepts and the update refuses, validated) or why none was found;
and the share of breaking findings that came with a witness.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from tidings.checker import compare_schemas, find_witness

_DRAFT_7 = "http://json-schema.org/draft-07/schema#"
_DRAFT_2020 = "https://json-schema.org/draft/2020-12/schema"


def load_cases(directory: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every case in DIR's diff-*.json files (Confluent writes them with trailing commas)."""
    cases: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(directory.glob("diff-*.json")):
        text = re.sub(r",(\s*[}\]])", r"\1", path.read_text(encoding="utf-8"))
        draft = _DRAFT_2020 if path.stem.endswith("2020-12") else _DRAFT_7
        for i, case in enumerate(json.loads(text)):
            for key in ("original_schema", "update_schema"):
                schema = case[key]
                if isinstance(schema, dict) and "$schema" not in schema:
                    case[key] = {"$schema": draft, **schema}  # as Confluent reads the file
            cases.append((f"{path.stem}#{i}", case))
    return cases


def _verdict(original: Any, update: Any, policy: str) -> tuple[bool, list[Any]]:
    changes = compare_schemas(original, update, policy=policy)  # type: ignore[arg-type]
    return not any(c.breaks_backward for c in changes), changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--budget", type=float, default=0.2,
                        help="seconds of witness search per finding")
    args = parser.parse_args(argv)
    cases = load_cases(args.directory)
    if not cases:
        print(f"{args.directory}: no diff-*.json files", file=sys.stderr)
        return 2
    rows = [("strict", "compatible"), ("lenient", "compatible_lenient"),
            ("confluent", "compatible_lenient")]
    agree = {p: 0 for p, _ in rows}
    disagreements: dict[str, list[str]] = {p: [] for p, _ in rows}
    breaking = witnessed = 0
    unwitnessed: list[str] = []
    started = time.perf_counter()
    for name, case in cases:
        original, update = case["original_schema"], case["update_schema"]
        expected = {"compatible": bool(case["compatible"]),
                    "compatible_lenient": bool(case.get("compatible_lenient",
                                                        case["compatible"]))}
        for policy, key in rows:
            ours, changes = _verdict(original, update, policy)
            declared_only = policy == "lenient"
            for c in changes:
                if c.breaks_backward and policy != "confluent":
                    breaking += 1
                    out = find_witness(original, update, pointer=c.pointer,
                                       declared_only=declared_only, budget=args.budget)
                    witnessed += out.witness is not None
                    if out.witness is None:
                        unwitnessed.append(f"  {name} {policy} {c.rule.name}@{c.pointer}: "
                                           f"{out.reason}")
            if ours == expected[key]:
                agree[policy] += 1
                continue
            out = find_witness(original, update, declared_only=declared_only,
                               pointer=next((c.pointer for c in changes if c.breaks_backward),
                                            None), budget=args.budget)
            if out.witness is not None:
                proof = f"witness {out.witness.text} (update refuses: {out.witness.refusal})"
            else:
                proof = f"no witness: {out.reason}"
            side = "tidings breaking, Confluent compatible" if not ours else (
                "tidings compatible, Confluent breaking")
            found = ", ".join(f"{c.rule.name}@{c.pointer}" for c in changes if c.breaks_backward)
            disagreements[policy].append(
                f"  {name} {case['description']!r}: {side}"
                + (f" [{found}]" if found else "") + f"\n      {proof}")
    elapsed = time.perf_counter() - started
    total = len(cases)
    print(f"Confluent JSON Schema diff cases: {total} (BACKWARD verdicts)")
    for policy, key in rows:
        print(f"  tidings {policy:9s} vs Confluent {key:18s}: {agree[policy]}/{total} agree "
              f"({100 * agree[policy] / total:.1f}%), {len(disagreements[policy])} disagree")
    verdicts = agree["strict"] + agree["lenient"]
    print(f"  strict+lenient verdicts: {verdicts}/{2 * total} agree "
          f"({100 * verdicts / (2 * total):.1f}%)")
    share = 100 * witnessed / breaking if breaking else 100.0
    print(f"witnesses for breaking findings (strict+lenient): {witnessed}/{breaking} "
          f"({share:.1f}%)")
    print(f"elapsed {elapsed:.2f} s")
    for policy, _ in rows:
        if disagreements[policy] and (args.verbose or policy == "confluent"):
            print(f"\ndisagreements, policy {policy}:")
            print("\n".join(disagreements[policy]))
    if unwitnessed and args.verbose:
        print("\nbreaking findings without a witness:")
        print("\n".join(unwitnessed))
    if not args.verbose:
        print("\n(--verbose lists the strict and lenient disagreements with their witnesses)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
