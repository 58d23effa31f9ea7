"""Which files form a catalog: one rule for the loader, the generator and the checker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CATALOG_SUFFIXES = (".yaml", ".yml", ".json")
"""File name endings of catalog files: YAML catalog documents and JSON or YAML schema files."""

_CATALOG_KEYS = frozenset({"catalog", "description", "contexts", "defaults", "events", "commands",
                           "$defs"})
_CATALOG_ONLY = frozenset({"catalog", "contexts", "defaults", "events", "commands"})


def is_catalog_path(relative: str) -> bool:
    """True when `relative` (a `/`-separated path below the catalog directory) names a catalog
    file: it ends in .yaml, .yml or .json and no part of it is hidden (starts with a dot)."""
    parts = relative.split("/")
    return relative.endswith(CATALOG_SUFFIXES) and not any(p.startswith(".") for p in parts)


def catalog_files(directory: Path) -> list[Path]:
    """Every catalog file below `directory`, sorted: *.yaml, *.yml and *.json (schema files a
    payload may `$ref`), skipping hidden files and folders. A file is returned as the one file."""
    if directory.is_file():
        return [directory]
    if not directory.is_dir():
        return []
    return sorted(
        path for path in directory.rglob("*")
        if path.is_file() and is_catalog_path(path.relative_to(directory).as_posix())
    )


def is_catalog_document(relative: str, data: Any) -> bool:
    """True when a parsed catalog file is a catalog document (events, commands, contexts,
    `$defs`...), False when it is a schema file that payloads `$ref`: every .json file, and a
    YAML file whose top level holds a keyword outside the catalog format (`type`, `$schema`...)
    and none only a catalog has."""
    if relative.endswith(".json") or not isinstance(data, dict):
        return not relative.endswith(".json") and not isinstance(data, bool)
    keys = set(data)
    return bool(keys & _CATALOG_ONLY) or keys <= _CATALOG_KEYS or not keys & _SCHEMA_HINTS


_SCHEMA_HINTS = frozenset({
    "$schema", "$id", "$ref", "type", "properties", "allOf", "anyOf", "oneOf", "items", "enum",
    "const", "definitions", "required", "additionalProperties", "patternProperties", "title",
})
