"""Helpers for the exactness tests: generate a catalog into a temporary package, import it, and
compare JSON values exactly (an int is not a float, a bool is not an int)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from referencing import Registry
from referencing.jsonschema import DRAFT202012, specification_with

from tidings.generator import generate

ROOT = Path(__file__).resolve().parents[2]


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values, numbers exactly: types must match (1 is not 1.0 or true)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def generated_models(schemas: Path, out: Path, name: str, **options: Any) -> Any:
    """Generate the catalog at `schemas` into `out/<name>` and import its models module."""
    result = generate(schemas, out, force=True, **options)
    assert result.package == out / name
    if str(out) not in sys.path:
        sys.path.insert(0, str(out))
    for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
        del sys.modules[module]
    return importlib.import_module(f"{name}.models")


def registry_of(directory: Path) -> Registry[Any]:
    """Every JSON/YAML schema file below `directory`, by file URI and by `$id` (the raw
    schemas, as a JSON Schema validator sees them)."""
    import yaml

    resources = []
    for path in sorted(directory.rglob("*")):
        if path.suffix not in (".json", ".yaml", ".yml"):
            continue
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        if not isinstance(data, dict) or "catalog" in data or "events" in data:
            continue
        spec = specification_with(data.get("$schema", DRAFT202012.name), default=DRAFT202012)
        resource = spec.create_resource(data)
        resources.append((path.resolve().as_uri(), resource))
        if isinstance(data.get("$id"), str):
            resources.append((data["$id"], resource))
    return Registry().with_resources(resources).crawl()
