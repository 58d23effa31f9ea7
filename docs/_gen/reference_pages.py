"""Reference pages written at build time (mkdocs-gen-files) from what the tools print:
`tidings check --list-rules` and `tidings schema`, run as the commands a user runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import mkdocs_gen_files


def _tidings(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "tidings", *args], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"tidings {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done.stdout


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_FAMILIES = {
    "C": "Payload compatibility (after Confluent Schema Registry's JSON Schema difference types)",
    "L": "Lineage: messages removed, kinds changed, versions",
    "O": "Orphans in the catalog",
    "S": "Orphans in the code (`--code`)",
    "D": "Messages that cross the wire",
    "I": "The ignore file",
    "K": "Payload schema keywords",
}


def checker_rules() -> str:
    """The rules as `tidings check --list-rules` prints them, one table per family."""
    rows: dict[str, list[tuple[str, str, str]]] = {}
    for line in _tidings("check", "--list-rules").splitlines():
        match = re.match(r"(TID-([A-Z])\d+)\s+(\S+)\s+(.*)", line)
        if match is None:
            raise RuntimeError(f"unexpected line in tidings check --list-rules: {line!r}")
        rule_id, family, name, summary = match.groups()
        rows.setdefault(family, []).append((rule_id, name, summary))
    unknown = set(rows) - set(_FAMILIES)
    if unknown:
        raise RuntimeError(f"rule families without a heading: {sorted(unknown)}")
    out = [
        "# Checker rules",
        "",
        "Every finding of `tidings check` carries one of these stable ids (a name works too, e.g. in",
        "`.tidings-ignore.yaml`). This page is generated from `tidings check --list-rules` when the",
        "site is built. How severities follow from a message's compatibility mode is explained in",
        "[the compatibility model](../explanation/compatibility.md).",
        "",
    ]
    for family, title in _FAMILIES.items():
        if family not in rows:
            continue
        out += [f"## {title}", "", "| id | name | what it finds |", "| --- | --- | --- |"]
        out += [f"| `{i}` | `{n}` | {_cell(s)} |" for i, n, s in rows[family]]
        out.append("")
    return "\n".join(out)


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        target = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{target}](#{target})" if target != "payload" else "JSON Schema"
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    kinds = schema.get("type", "")
    if isinstance(kinds, list):
        return " or ".join(kinds)
    if kinds == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of name to {_type_of(schema['additionalProperties'])}"
    if kinds == "array" and isinstance(schema.get("items"), dict):
        return f"list of {_type_of(schema['items'])}"
    if "anyOf" in schema or "oneOf" in schema:
        return " or ".join(_type_of(s) for s in schema.get("anyOf", schema.get("oneOf", [])))
    return str(kinds) or "any"


def _table(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    rows = ["| key | type | required | description |", "| --- | --- | --- | --- |"]
    for key, sub in schema.get("properties", {}).items():
        rows.append(f"| `{key}` | {_type_of(sub)} | {'yes' if key in required else ''} "
                    f"| {_cell(sub.get('description', ''))} |")
    return rows


def catalog_keys() -> str:
    """Every key of a catalog file, from the JSON Schema `tidings schema` prints."""
    schema = json.loads(_tidings("schema"))
    out = [
        "# Catalog file keys",
        "",
        "Generated from `tidings schema` (the JSON Schema editors use) when the site is built.",
        "The [catalog format](catalog.md) page explains the rules the loader adds on top.",
        "",
        "## The file",
        "",
        _cell(schema.get("description", "")),
        "",
        *_table(schema),
        "",
    ]
    for name, sub in schema["$defs"].items():
        if name in ("payload", "schema"):
            continue
        out += [f"## {name}", ""]
        if sub.get("description"):
            out += [_cell(sub["description"]), ""]
        out += _table(sub) if "properties" in sub else [f"Type: {_type_of(sub)}"]
        out.append("")
    out += ["## payload", "",
            "A JSON Schema 2020-12 object; see [the catalog format](catalog.md#payloads).", ""]
    return "\n".join(out)


with mkdocs_gen_files.open("reference/checker-rules.md", "w") as page:
    page.write(checker_rules())
with mkdocs_gen_files.open("reference/catalog-keys.md", "w") as page:
    page.write(catalog_keys())
