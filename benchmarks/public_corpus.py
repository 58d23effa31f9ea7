"""Measure tidings on a public corpus of real webhook schemas with real example payloads.

The corpus is GitHub's webhook payload schemas and examples as published by octokit/webhooks
(MIT licence; https://github.com/octokit/webhooks). It is not committed here: fetch the
repository yourself and point this script at its checkout:

    python benchmarks/public_corpus.py /path/to/octokit-webhooks [--mypy]

It copies `payload-schemas/api.github.com` unchanged into a temporary catalog directory, writes
one catalog file whose messages are nothing but `payload: {$ref: <schema file>}` (one message
per `<event>/<action>.schema.json`), and prints:

- whether the catalog loads with the schema files unchanged (and how many warnings it gave);
- how many example payloads (`payload-examples/api.github.com/<event>/<action>*.json`)
  the raw JSON Schema accepts (jsonschema, formats as annotations, the spec's default), how many
  the generated pydantic models accept, and every disagreement;
- how many accepted payloads come back JSON-equal from
  `model_validate_json(x).model_dump_json(by_alias=True, exclude_unset=True)` (numbers compared
  exactly);
- with `--mypy`, whether `mypy --strict` passes on the generated package.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jsonschema import Draft7Validator, validators  # noqa: E402
from pydantic import BaseModel, ValidationError  # noqa: E402

from tests.generator._exact import generated_models, registry_of, same_json  # noqa: E402
from tidings.catalog import load_catalog  # noqa: E402


def _message_name(event: str, action: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", f"{event} {action}")
    first, *rest = [w for w in words if w]
    return first.lower() + "".join(w[:1].upper() + w[1:] for w in rest)


def build_catalog(source: Path, directory: Path) -> dict[str, Path]:
    """Copy the schema files unchanged and write catalog.yaml; return message name -> file."""
    schemas = source / "payload-schemas" / "api.github.com"
    shutil.copytree(schemas, directory / "payloads")
    messages: dict[str, Path] = {}
    for path in sorted((directory / "payloads").glob("*/*.schema.json")):
        if path.parent.name == "common":
            continue
        action = path.name.removesuffix(".schema.json")
        messages[_message_name(path.parent.name, action)] = path
    lines = ["catalog: github", "contexts:", "  github: {}", "  hooks: {}", "events:"]
    for name, path in messages.items():
        relative = path.relative_to(directory).as_posix()
        lines += [f"  {name}:", "    producers: [github]", "    consumers: [hooks]",
                  f"    payload: {{$ref: {json.dumps(relative)}}}"]
    (directory / "catalog.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return messages


def examples_of(source: Path, path: Path) -> list[Path]:
    """The example payloads of one schema file: `<event>/<action>[.variant][.payload].json`,
    or every example of an event that has one schema."""
    folder = source / "payload-examples" / "api.github.com" / path.parent.name
    action = path.name.removesuffix(".schema.json")
    if action == "event" or len(list(path.parent.glob("*.schema.json"))) == 1:
        return sorted(folder.glob("*.json"))  # one schema for all the event's examples
    return sorted(p for p in folder.glob("*.json")
                  if p.name.split(".", 1)[0].replace("-", "_") == action)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="a checkout of octokit/webhooks")
    parser.add_argument("--mypy", action="store_true", help="also run mypy --strict")
    parser.add_argument("--show", type=int, default=15, help="disagreements to print")
    args = parser.parse_args()
    source: Path = args.source
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "catalog"
        directory.mkdir()
        messages = build_catalog(source, directory)
        started = time.perf_counter()
        catalog = load_catalog(directory)
        loaded = time.perf_counter() - started
        print(f"catalog: {len(messages)} messages from unchanged schema files, loaded in"
              f" {loaded:.2f} s, {len(catalog.warnings)} warnings")
        for warning in catalog.warnings[:5]:
            print(f"  warning: {warning}")
        out = Path(tmp) / "out"
        started = time.perf_counter()
        models = generated_models(directory, out, "github")
        print(f"generated in {time.perf_counter() - started:.2f} s")
        registry = registry_of(directory / "payloads")
        by_name = {m.name: m for m in catalog.messages()}
        total = raw_ok = model_ok = exact = 0
        problems: list[str] = []
        for name, path in messages.items():
            data = json.loads(path.read_text(encoding="utf-8"))
            cls = validators.validator_for(data, default=Draft7Validator)
            # the schema by its `$id` (refs between the files are by `$id`, as ajv reads them)
            start = data.get("$id") or path.resolve().as_uri()
            validator = cls({"$ref": start}, registry=registry)
            model: type[BaseModel] = getattr(models, by_name[name].model_name)
            for example in examples_of(source, path):
                text = example.read_text(encoding="utf-8")
                value = json.loads(text)
                total += 1
                valid = validator.is_valid(value)
                raw_ok += valid
                try:
                    instance = model.model_validate_json(text)
                except ValidationError as exc:
                    if valid:
                        first = exc.errors()[0]
                        where = ".".join(str(p) for p in first["loc"])
                        problems.append(f"{example.relative_to(source)}: model refused a payload"
                                        f" the schema accepts: {where}: {first['msg']}")
                    continue
                if not valid:
                    error = next(iter(validator.iter_errors(value)))
                    problems.append(f"{example.relative_to(source)}: model accepted a payload"
                                    f" the schema refuses: {error.message[:120]}")
                    continue
                model_ok += 1
                back = json.loads(instance.model_dump_json(by_alias=True, exclude_unset=True))
                if same_json(back, value):
                    exact += 1
                else:
                    problems.append(f"{example.relative_to(source)}: round trip changed it")
        every = len(list((source / "payload-examples" / "api.github.com").glob("*/*.json")))
        print(f"examples: {total} of {every} match a schema file; the raw schema accepts"
              f" {raw_ok}; the models accept {model_ok} of those; {exact} of them round-trip"
              " JSON-equal")
        print(f"disagreements: {len(problems)}")
        for problem in problems[:args.show]:
            print(f"  {problem}")
        if args.mypy:
            env = {**os.environ, "MYPYPATH": str(ROOT)}
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "github"],
                cwd=out, capture_output=True, text=True, env=env, check=False)
            print(f"mypy --strict: {'passed' if result.returncode == 0 else 'FAILED'} in"
                  f" {time.perf_counter() - started:.0f} s")
            if result.returncode:
                print(result.stdout[-2000:])
        return 0 if not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
