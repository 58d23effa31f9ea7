"""Payload schemas: checked against the JSON Schema 2020-12 meta-schema and for keywords
that tidings does not support, each error with its JSON pointer."""

from __future__ import annotations

from typing import Any

from jsonschema.exceptions import ValidationError

from tidings.catalog._issues import CatalogIssue
from tidings.catalog._keywords import KNOWN, json_pointer, subschemas
from tidings.catalog._metaschema import meta_validator
from tidings.catalog._structure import did_you_mean, dotted
from tidings.catalog._yaml import ParsedFile, Path

_TYPES = "array, boolean, integer, null, number, object, string"
_UNSUPPORTED = {
    "$id": "a catalog file's URI is its path; remove `$id` and use relative refs "
    "such as `common.yaml#/$defs/Money`",
    "$anchor": "refer to definitions by pointer instead (`#/$defs/Name`)",
    "$dynamicRef": "use `$ref` to a `$defs` entry instead",
    "$dynamicAnchor": "use `$ref` to a `$defs` entry instead",
    "$vocabulary": "catalog payloads always use the JSON Schema 2020-12 vocabularies",
    "definitions": "move the definitions to the file's top-level `$defs:` "
    "and refer to them as `#/$defs/Name`",
}


_OPEN_ENDED = ("allOf", "anyOf", "oneOf", "$ref", "patternProperties", "if", "then", "else",
               "dependentSchemas", "unevaluatedProperties")


def _undeclared_required(sub: dict[str, Any]) -> list[tuple[int, str]]:
    """`required` names missing from `properties` where nothing else could declare them
    (a typo, or a schema no message can satisfy)."""
    required, properties = sub.get("required"), sub.get("properties")
    if not isinstance(required, list) or not isinstance(properties, dict):
        return []
    if any(k in sub for k in _OPEN_ENDED) or isinstance(sub.get("additionalProperties"), dict):
        return []
    return [(i, n) for i, n in enumerate(required) if isinstance(n, str) and n not in properties]


def _meta_message(error: ValidationError) -> str:
    path = list(error.absolute_path)
    last = path[-1] if path else None
    instance = error.instance
    if last == "type" and error.validator in ("anyOf", "enum"):
        return f"{error.message}; use one of: {_TYPES}"
    if error.validator == "type":
        expected = error.schema.get("type") if isinstance(error.schema, dict) else None
        words = {"array": "a list", "object": "a mapping", "string": "text",
                 "boolean": "true or false", "number": "a number",
                 "integer": "an integer"}
        wanted = words.get(str(expected), str(expected))
        if isinstance(expected, list):
            wanted = " or ".join(words.get(str(t), str(t)) for t in expected)
        return f"{instance!r} is not {wanted}; write {wanted} here"
    if error.validator == "format" and last == "pattern":
        return f"{instance!r} is not a valid regular expression; fix the pattern"
    if error.validator == "minimum":
        return f"{instance!r} is negative; use 0 or more"
    if error.validator == "exclusiveMinimum":
        return f"{instance!r} must be greater than 0"
    if error.validator == "uniqueItems":
        return f"{error.message}; list each value once"
    return str(error.message)


def payload_issues(parsed: ParsedFile, path: Path, schema: dict[str, Any]) -> list[CatalogIssue]:
    """Problems of the payload schema at `path` in `parsed` (meta-schema, keywords)."""
    issues: list[CatalogIssue] = []

    def add(parts: tuple[str | int, ...], message: str, *, key: bool = False) -> None:
        issues.append(
            CatalogIssue(
                location=parsed.location((*path, *parts), key=key),
                path=dotted(path),
                pointer=json_pointer(parts) or "/",
                message=message,
            )
        )

    for error in meta_validator().iter_errors(schema):
        add(tuple(error.absolute_path), _meta_message(error))
    for sub, parts in subschemas(schema):
        for index, name in _undeclared_required(sub):
            add(
                (*parts, "required", index),
                f"{name!r} is required but not declared under `properties`"
                f"{did_you_mean(name, sorted(sub['properties']))}; declare it or fix the name",
            )
        for key in sub:
            if key in _UNSUPPORTED:
                add((*parts, key), f"`{key}` is not supported here; {_UNSUPPORTED[key]}", key=True)
            elif key == "$defs":
                add(
                    (*parts, key),
                    "`$defs` inside a payload is not supported; move the definitions to the "
                    "file's top-level `$defs:` and refer to them as `#/$defs/Name`",
                    key=True,
                )
            elif key not in KNOWN and not key.startswith("x-"):
                add(
                    (*parts, key),
                    f"unknown JSON Schema keyword {key!r}{did_you_mean(key, sorted(KNOWN))}; "
                    "fix the spelling, or prefix custom annotations with `x-`",
                    key=True,
                )
    return issues
