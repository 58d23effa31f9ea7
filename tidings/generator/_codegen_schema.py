"""The bundle as datamodel-code-generator should read it, so that models accept what the
schema accepts and give it back unchanged.

- An object that does not close itself (`additionalProperties: false`) is open, as JSON Schema
  says: `additionalProperties: true` is written out, so its model keeps undeclared properties.
- `type: number` admits integers: written `[integer, number]`, so an integer stays an `int` (any
  size, no `.0`) and a fraction a `float`.
- Formats are annotations (`formats = "annotate"`): every format is typed as plain text (the
  models options map each to `str`), never parsed into a `datetime` or `AnyUrl` that would write
  the value back differently. With `formats = "assert"` a format also gets its `pattern`.
- `uniqueItems` is left to the JSON Schema validator: the check datamodel-code-generator writes
  for it does not pass `mypy --strict`, so a model accepts repeated items.
"""

from __future__ import annotations

from typing import Any, Literal

FormatPolicy = Literal["annotate", "assert"]
FORMAT_POLICIES: tuple[FormatPolicy, ...] = ("annotate", "assert")

_DATE = r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
_TIME = r"([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)"
_HEX = "[0-9a-fA-F]"
FORMAT_PATTERNS: dict[str, str] = {
    "date-time": rf"^{_DATE}[Tt ]{_TIME}$",
    "date": rf"^{_DATE}$",
    "time": rf"^{_TIME}$",
    "uuid": rf"^{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}$",
    "email": r"^[^@\s]+@[^@\s]+$",
    "idn-email": r"^[^@\s]+@[^@\s]+$",
    "uri": r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]*$",
    "iri": r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]*$",
    "uri-reference": r"^[^\s]*$",
    "iri-reference": r"^[^\s]*$",
    "ipv4": r"^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$",
    "ipv6": r"^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$",
    "hostname": r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$",
    "duration": r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$",
    "json-pointer": r"^(/([^~/]|~[01])*)*$",
}
"""What `formats = "assert"` checks per format (a format without an entry stays an annotation).
Patterns with look-ahead need Python's regex engine, which the generated models select."""

_VALUED = ("additionalProperties", "items", "contains", "propertyNames", "not", "if", "then",
           "else", "unevaluatedItems", "unevaluatedProperties", "contentSchema")
_MAPS = ("properties", "patternProperties", "dependentSchemas", "$defs")
_ARRAYS = ("allOf", "anyOf", "oneOf", "prefixItems")


def codegen_schema(bundle: dict[str, Any], formats: FormatPolicy = "annotate") -> dict[str, Any]:
    """A copy of `bundle` (a `Catalog.bundle()`) prepared for datamodel-code-generator."""
    prepared = _prepare(bundle, formats)
    assert isinstance(prepared, dict)
    return prepared


def _is_object(node: dict[str, Any]) -> bool:
    kind = node.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind) or (
        kind is None and "properties" in node)


def _prepare(node: Any, formats: FormatPolicy) -> Any:
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _VALUED:
            out[key] = _prepare(value, formats)
        elif key in _MAPS and isinstance(value, dict):
            out[key] = {n: _prepare(v, formats) for n, v in value.items()}
        elif key in _ARRAYS and isinstance(value, list):
            out[key] = [_prepare(v, formats) for v in value]
        elif key != "uniqueItems":
            out[key] = value
    kind = out.get("type")
    if kind == "number":
        out["type"] = ["integer", "number"]
    elif isinstance(kind, list) and "number" in kind and "integer" not in kind:
        out["type"] = [t for t in kind if t != "null"] + ["integer"] + (
            ["null"] if "null" in kind else [])
    if _is_object(out) and "additionalProperties" not in out and (
        out.get("unevaluatedProperties") is not False
    ):
        out["additionalProperties"] = True
    if "format" in out and out.get("type") != "string":
        del out["format"]  # a format says nothing about non-strings; a type list keeps its union
    fmt = out.get("format")
    if formats == "assert" and isinstance(fmt, str) and fmt in FORMAT_PATTERNS:
        pattern = FORMAT_PATTERNS[fmt]
        if "pattern" in out:
            out = {**out, "allOf": [*out.get("allOf", []), {"pattern": pattern}]}
        else:
            out["pattern"] = pattern
    return out
