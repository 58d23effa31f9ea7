"""Payload schemas: checked against the JSON Schema 2020-12 meta-schema and for keywords
that tidings does not support, each error with its JSON pointer."""

from __future__ import annotations

import json
from typing import Any

from jsonschema.exceptions import ValidationError

from tidings.catalog._issues import CatalogIssue
from tidings.catalog._keywords import FORMATS as _FORMATS
from tidings.catalog._keywords import KNOWN, json_pointer, subschemas
from tidings.catalog._metaschema import meta_validator, surely_valid
from tidings.catalog._model import JSON_SCHEMA_DIALECT
from tidings.catalog._naming import property_name_problems
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


def _show(value: Any) -> str:
    """A value as a catalog author wrote it: text quoted, the rest as YAML/JSON would say."""
    if isinstance(value, str):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, default=str)


_WORDS = {"array": "a list", "object": "a mapping", "string": "text", "boolean": "true or false",
          "number": "a number", "integer": "an integer", "null": "null"}
_YAML11_BOOLEANS = {"yes", "no", "on", "off", "y", "n"}


def _meta_message(error: ValidationError) -> str:
    path = list(error.absolute_path)
    last = path[-1] if path else None
    instance = error.instance
    if last == "type" and error.validator in ("anyOf", "enum"):
        names = instance if isinstance(instance, list) else [instance]
        bad = [t for t in names if t not in _TYPES.split(", ")] or [instance]
        hint = did_you_mean(bad[0], _TYPES.split(", ")) if isinstance(bad[0], str) else ""
        if isinstance(instance, list) and len(set(map(_show, names))) < len(names):
            return f"{_show(instance)} repeats a type; list each type once"
        return f"{_show(bad[0])} is not a JSON type{hint}; use one of: {_TYPES}"
    if error.validator == "type":
        expected = error.schema.get("type") if isinstance(error.schema, dict) else None
        if expected == ["object", "boolean"]:
            if last == "items" and isinstance(instance, list):
                return (
                    "a list under `items` is draft 7; in JSON Schema 2020-12 write "
                    "`prefixItems: [...]` (and `items: false` to allow no more)"
                )
            message = f"{_show(instance)} is not a schema; write a mapping (or true/false)"
        else:
            types = expected if isinstance(expected, list) else [expected]
            wanted = " or ".join(_WORDS.get(str(t), str(t)) for t in types)
            message = f"{_show(instance)} is not {wanted}; write {wanted} here"
        if isinstance(instance, bool) and last in ("exclusiveMinimum", "exclusiveMaximum"):
            bound = last.replace("exclusiveM", "m")
            return (
                f"`{last}: {_show(instance)}` is draft 4; in JSON Schema 2020-12 `{last}` holds "
                f"the bound itself: move the number from `{bound}` to `{last}`"
            )
        if isinstance(instance, str) and instance.lower() in _YAML11_BOOLEANS:
            message += " (YAML 1.2: only true and false are booleans)"
        return message
    if error.validator == "format" and last == "pattern":
        return f"{_show(instance)} is not a valid regular expression; fix the pattern"
    if error.validator == "minimum":
        return f"{_show(instance)} is negative; use 0 or more"
    if error.validator == "exclusiveMinimum":
        return f"{_show(instance)} must be greater than 0"
    if error.validator == "uniqueItems":
        return f"{_show(instance)} has repeated values; list each value once"
    return str(error.message)


_SPECIFIC = {
    "nullable": "`nullable` is OpenAPI, not JSON Schema; add 'null' to the `type` list "
    "(`type: [string, 'null']`)",
    "example": "`example` is OpenAPI; write `examples: [...]`",
    "additionalItems": "`additionalItems` is draft 7; in JSON Schema 2020-12 `items` applies "
    "after `prefixItems`: write `items: false` (or a schema)",
    "dependencies": "`dependencies` is draft 7; write `dependentRequired` (names) or "
    "`dependentSchemas` (schemas)",
}


# Keywords the loop at the end of `payload_issues` passes over without a word.
_PLAIN_KEYWORDS = KNOWN - {"nullable", "$defs", *_SPECIFIC, *_UNSUPPORTED}


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

    errors = () if surely_valid(schema) else meta_validator().iter_errors(schema)
    for error in errors:
        add(tuple(error.absolute_path), _meta_message(error))
    for sub, parts in subschemas(schema):
        for index, name in _undeclared_required(sub):
            add(
                (*parts, "required", index),
                f"{name!r} is required but not declared under `properties`"
                f"{did_you_mean(name, sorted(sub['properties']))}; declare it or fix the name",
            )
        properties = sub.get("properties")
        if isinstance(properties, dict) and not all(map(str.isascii, properties)):
            for name, problem in property_name_problems(list(properties)):
                add((*parts, "properties", name), problem, key=True)
        enum = sub.get("enum")
        if isinstance(enum, list) and any(isinstance(v, float) for v in enum):
            index, value = next((i, v) for i, v in enumerate(enum) if isinstance(v, float))
            add(
                (*parts, "enum", index),
                f"{_show(value)} in `enum` is a float: Python's Literal holds no floats, so the"
                " generated model would accept any number; list integers (2, not 2.0) or"
                " strings, or give the range with `minimum`/`maximum` and `type: number`",
            )
        fmt = sub.get("format")
        if isinstance(fmt, str) and fmt not in _FORMATS:
            add(
                (*parts, "format"),
                f"unknown format {fmt!r}{did_you_mean(fmt, sorted(_FORMATS))}; use one of: "
                + ", ".join(sorted(_FORMATS))
                + " (describe other values with `pattern`)",
            )
        schema_uri = sub.get("$schema")
        if isinstance(schema_uri, str) and schema_uri.rstrip("#") != JSON_SCHEMA_DIALECT:
            add(
                (*parts, "$schema"),
                f"payloads are JSON Schema 2020-12, not {schema_uri!r}; remove `$schema` "
                f"or write {JSON_SCHEMA_DIALECT}",
            )
        if _PLAIN_KEYWORDS.issuperset(sub):
            continue  # the common case: no keyword below needs a word
        for key in sub:
            if key == "nullable" and isinstance(sub.get("type"), str):
                add(
                    (*parts, key),
                    "`nullable` is OpenAPI, not JSON Schema; write "
                    f"`type: [{sub['type']}, 'null']` instead",
                    key=True,
                )
            elif key in _SPECIFIC:
                add((*parts, key), _SPECIFIC[key], key=True)
            elif key in _UNSUPPORTED:
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
