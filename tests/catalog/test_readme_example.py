"""The catalog example of the docs' "Catalog format" page is a valid catalog."""

from __future__ import annotations

import re
from pathlib import Path

from jsonschema import Draft202012Validator

from tidings.catalog import Compatibility, catalog_format_schema, load_catalog_texts
from tidings.catalog._yaml import parse_yaml

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "catalog.md"


def _example() -> str:
    section = PAGE.read_text(encoding="utf-8").split("# Catalog format", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match, "the Catalog format page shows a YAML catalog"
    return match.group(1)


def test_readme_catalog_example_loads() -> None:
    text = _example()
    common = "$defs:\n  Money: {type: object, properties: {amount: {type: string}}}\n"
    catalog = load_catalog_texts({"freight.yaml": text, "common.yaml": common}, root="schemas")
    assert catalog.name == "freight"
    doc = catalog.message("documentUploaded")
    assert doc.retry.max_attempts == 10 and doc.retry.max_delay == 300.0
    assert doc.compatibility is Compatibility.BACKWARD
    assert doc.resolved_payload["properties"]["fee"] == {"$ref": "#/$defs/Money"}
    resync = catalog.message("resyncTracking")
    assert resync.handler == "email" and resync.version == 2
    assert [(p.version, sorted(p.resolved_payload["properties"])) for p in resync.previous] == [
        (1, ["id"])]


def test_readme_catalog_example_matches_the_editor_schema() -> None:
    issues: list[object] = []
    parsed = parse_yaml("catalog.md", _example(), issues)
    assert parsed is not None and not issues
    assert list(Draft202012Validator(catalog_format_schema()).iter_errors(parsed.data)) == []
