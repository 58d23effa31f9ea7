"""Payload and schema-file schemas: checked against the meta-schema of their own draft, and for
unknown keywords and formats (warnings), each with its JSON pointer."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from jsonschema.exceptions import ValidationError

from tidings.catalog._dialects import (
    DRAFT_7,
    DRAFT_2019_09,
    DRAFT_2020_12,
    dialect_of,
    file_dialect,
    meta_validator_of,
    supported_dialects,
)
from tidings.catalog._issues import CatalogIssue
from tidings.catalog._keywords import FORMATS as _FORMATS
from tidings.catalog._keywords import KNOWN, json_pointer, subschemas
from tidings.catalog._metaschema import meta_validator, surely_valid
from tidings.catalog._naming import property_name_problems
from tidings.catalog._structure import did_you_mean, dotted
from tidings.catalog._yaml import ParsedFile, Path

_TYPES = "array, boolean, integer, null, number, object, string"


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
    "nullable": "`nullable` is OpenAPI, not JSON Schema, and means nothing here; add 'null' to the "
    "`type` list (`type: [string, 'null']`)",
    "example": "`example` is OpenAPI and means nothing here; write `examples: [...]`",
    "additionalItems": "`additionalItems` is draft 7 and means nothing in 2020-12: `items` applies "
    "after `prefixItems` (write `items: false` or a schema), or declare `$schema` draft 7",
    "dependencies": "`dependencies` is draft 7 and means nothing in 2020-12; write "
    "`dependentRequired` (names) or `dependentSchemas` (schemas), or declare `$schema` draft 7",
}
_LATEST_ONLY = {"prefixItems", "dependentRequired", "dependentSchemas", "$dynamicRef",
                "$dynamicAnchor", "unevaluatedItems", "unevaluatedProperties", "$defs"}
_KNOWN_BY_DIALECT = {
    DRAFT_2020_12.name: KNOWN | {"definitions", "$comment"},
    DRAFT_2019_09.name: (KNOWN - {"prefixItems", "$dynamicRef", "$dynamicAnchor"})
    | {"definitions", "additionalItems", "$recursiveRef", "$recursiveAnchor", "$vocabulary"},
    DRAFT_7.name: (KNOWN - _LATEST_ONLY - {"$anchor", "maxContains", "minContains",
                                           "contentSchema", "deprecated"})
    | {"definitions", "additionalItems", "dependencies"},
}


def payload_issues(
    parsed: ParsedFile, path: Path, schema: Any, *, warnings: list[CatalogIssue] | None = None,
) -> list[CatalogIssue]:
    """Problems of the schema at `path` in `parsed` (a payload, a shared definition or a whole
    schema file): meta-schema errors of its own draft (`$schema`, default 2020-12) are returned;
    unknown keywords and formats (annotations, as JSON Schema says) go to `warnings`, each with
    a did-you-mean, or are returned as errors too when `warnings` is None."""
    issues: list[CatalogIssue] = []
    soft = issues if warnings is None else warnings
    where_path = dotted(path)

    def add(parts: tuple[str | int, ...], message: str, *, key: bool = False,
            into: list[CatalogIssue] | None = None) -> None:
        (issues if into is None else into).append(
            CatalogIssue(
                location=parsed.location((*path, *parts), key=key),
                path=where_path,
                pointer=json_pointer(parts) or "/",
                message=message,
            )
        )

    dialect = file_dialect(schema)
    if dialect is None:
        add(("$schema",), f"{_show(schema.get('$schema'))} is no JSON Schema draft tidings reads; "
            f"write one of: {supported_dialects()} (or remove `$schema` for 2020-12)")
        return issues
    if not isinstance(schema, dict):
        return issues
    errors: Iterable[ValidationError]
    if dialect.latest:
        errors = () if surely_valid(schema) else meta_validator().iter_errors(schema)
    else:
        full = meta_validator_of(dialect)
        errors = () if surely_valid(schema, full.schema) else full.iter_errors(schema)
    for error in errors:
        add(tuple(error.absolute_path), _meta_message(error))
    known = _KNOWN_BY_DIALECT[dialect.name]
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
                f"unknown format {fmt!r}{did_you_mean(fmt, sorted(_FORMATS))}, an annotation "
                "only; use one of: " + ", ".join(sorted(_FORMATS))
                + " (describe other values with `pattern`)",
                into=soft,
            )
        schema_uri = sub.get("$schema")
        if parts and schema_uri is not None and dialect_of(schema_uri) is None:
            add((*parts, "$schema"), f"{_show(schema_uri)} is no JSON Schema draft tidings "
                f"reads; write one of: {supported_dialects()}")
        if known.issuperset(sub):
            continue  # the common case: no keyword below needs a word
        for key in sub:
            if key in known or key.startswith("x-"):
                continue
            if key == "nullable" and isinstance(sub.get("type"), str):
                message = (
                    "`nullable` is OpenAPI, not JSON Schema, and means nothing here; write "
                    f"`type: [{sub['type']}, 'null']` instead"
                )
            elif key in _SPECIFIC and dialect.latest:
                message = _SPECIFIC[key]
            else:
                choices = sorted(known)
                message = (
                    f"unknown JSON Schema keyword {key!r}{did_you_mean(key, choices)} "
                    f"({dialect.name}): an annotation without effect; fix the spelling, or "
                    "prefix custom annotations with `x-`"
                )
            add((*parts, key), message, key=True, into=soft)
    return issues
