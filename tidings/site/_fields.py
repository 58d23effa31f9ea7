"""A payload schema as a readable table: one row per field (dotted path, `[]` for array items),
with its type, whether it is required, its constraints and its description."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_CONSTRAINTS = ("format", "pattern", "minLength", "maxLength", "minimum", "maximum",
                "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems",
                "uniqueItems", "minProperties", "maxProperties", "const", "default", "examples")


@dataclass(frozen=True)
class FieldRow:
    """One field of a payload: `path` (``shipper.name``, ``legs[].origin``), `type` as read
    (``string``, ``array of Leg``, ``Party``), `required`, `constraints` (``format: uuid``, ...),
    `description`."""

    path: str
    type: str
    required: bool
    constraints: tuple[str, ...]
    description: str
    depth: int


def _resolve(schema: Any, defs: dict[str, Any]) -> tuple[Any, str | None]:
    name = None
    seen: set[str] = set()
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        ref = schema["$ref"]
        if not ref.startswith("#/$defs/") or ref in seen:
            break
        seen.add(ref)
        name = ref[len("#/$defs/"):]
        merged = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**defs.get(name, {}), **merged}
    return schema, name


def _type(schema: Any, defs: dict[str, Any]) -> str:
    if schema is True or schema == {}:
        return "any"
    if not isinstance(schema, dict):
        return "never" if schema is False else "any"
    schema, name = _resolve(schema, defs)
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    kind = schema.get("type")
    text = " | ".join(kind) if isinstance(kind, list) else (kind or "")
    if kind == "array" or (isinstance(kind, list) and "array" in kind):
        text = text.replace("array", f"array of {_type(schema.get('items', {}), defs)}")
    for combinator in ("oneOf", "anyOf", "allOf"):
        if combinator in schema:
            text = (text + " " if text else "") + f"{combinator}(" + ", ".join(
                _type(s, defs) for s in schema[combinator]) + ")"
    if name:
        return f"{name} ({text})" if text and text != "object" else name
    return text or "any"


def _constraints(schema: dict[str, Any]) -> tuple[str, ...]:
    out = [f"{k}: {json.dumps(schema[k]) if not isinstance(schema[k], str) else schema[k]}"
           for k in _CONSTRAINTS if k in schema]
    if schema.get("additionalProperties") is False:
        out.append("no other fields")
    return tuple(out)


def field_rows(payload: dict[str, Any], max_depth: int = 4) -> list[FieldRow]:
    """The rows of `payload` (a resolved payload: `$ref`s point at its own `$defs`), nested
    objects and array items expanded up to `max_depth`, each definition once per branch."""
    defs = payload.get("$defs", {})
    rows: list[FieldRow] = []

    def walk(schema: Any, prefix: str, depth: int, stack: tuple[str, ...]) -> None:
        schema, name = _resolve(schema, defs)
        if not isinstance(schema, dict) or depth > max_depth or (name and name in stack):
            return
        stack = (*stack, name) if name else stack
        if schema.get("type") == "array" or "items" in schema:
            walk(schema.get("items", {}), prefix + "[]", depth, stack)
            return
        required = set(schema.get("required", []))
        for key, sub in (schema.get("properties") or {}).items():
            resolved, _ = _resolve(sub, defs)
            resolved = resolved if isinstance(resolved, dict) else {}
            description = str((sub.get("description") if isinstance(sub, dict) else None)
                              or resolved.get("description") or "")
            path = f"{prefix}.{key}" if prefix else key
            rows.append(FieldRow(path, _type(sub, defs), key in required, _constraints(resolved),
                                 description, depth))
            walk(sub, path, depth + 1, stack)

    walk(payload, "", 0, ())
    return rows


def examples(payload: dict[str, Any]) -> list[Any]:
    """The payload's own `examples` (JSON Schema keyword), as written."""
    found = payload.get("examples")
    return list(found) if isinstance(found, list) else []
