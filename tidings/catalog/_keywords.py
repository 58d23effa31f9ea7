"""Where JSON Schema 2020-12 keywords hold subschemas, and which keywords exist."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

SCHEMA_VALUED = frozenset({
    "additionalProperties", "items", "contains", "propertyNames", "not", "if", "then", "else",
    "unevaluatedItems", "unevaluatedProperties", "contentSchema",
})
SCHEMA_MAPS = frozenset({"properties", "patternProperties", "dependentSchemas", "$defs"})
SCHEMA_ARRAYS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
DATA_KEYWORDS = frozenset({
    "$schema", "$id", "$ref", "$anchor", "$comment", "type", "enum", "const",
    "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength",
    "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxContains", "minContains",
    "maxProperties", "minProperties", "required", "dependentRequired", "title", "description",
    "default", "deprecated", "readOnly", "writeOnly", "examples", "format", "contentEncoding",
    "contentMediaType",
})
KNOWN = SCHEMA_VALUED | SCHEMA_MAPS | SCHEMA_ARRAYS | DATA_KEYWORDS
OLDER_KEYWORDS = frozenset({
    "definitions", "dependencies", "additionalItems", "$recursiveRef", "$recursiveAnchor",
    "$dynamicRef", "$dynamicAnchor", "$vocabulary",
})
"""Keywords of drafts 7 and 2019-09 (and 2020-12's dynamic references) that tidings translates."""
# Where drafts 7 and 2019-09 hold subschemas beyond the 2020-12 places above.
_OLDER_VALUED = frozenset({"additionalItems"})
_OLDER_MAPS = frozenset({"definitions", "dependencies"})
_ARRAY_KEYS = SCHEMA_ARRAYS | {"items"}
FORMATS = frozenset({
    "date-time", "date", "time", "duration", "email", "idn-email", "hostname", "idn-hostname",
    "ipv4", "ipv6", "uri", "uri-reference", "iri", "iri-reference", "uuid", "uri-template",
    "json-pointer", "relative-json-pointer", "regex",
})
"""The formats JSON Schema 2020-12 defines; tidings warns about others (typos like `uuid4`)."""

Pointer = tuple[str | int, ...]


def subschemas(schema: Any, at: Pointer = ()) -> Iterator[tuple[dict[str, Any], Pointer]]:
    """Every schema object inside `schema` (itself first) with its path, following only the
    keywords that hold schemas (so a property called `$ref`, or an enum value, is never one)."""
    if not isinstance(schema, dict):
        return
    yield schema, at
    for key, value in schema.items():
        if key in _ARRAY_KEYS and isinstance(value, list):
            for index, sub in enumerate(value):
                yield from subschemas(sub, (*at, key, index))
        elif key in SCHEMA_VALUED or key in _OLDER_VALUED:
            yield from subschemas(value, (*at, key))
        elif (key in SCHEMA_MAPS or key in _OLDER_MAPS) and isinstance(value, dict):
            for name, sub in value.items():
                yield from subschemas(sub, (*at, key, name))


def json_pointer(parts: Pointer) -> str:
    """RFC 6901 pointer of a path (`""` for the root)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
