"""The bundle as datamodel-code-generator should read it, so that models accept what the
schema accepts and give it back unchanged.

- An object that does not close itself (`additionalProperties: false`) is open, as JSON Schema
  says: `additionalProperties: true` is written out, so its model keeps undeclared properties.
- `type: number` admits integers: written `[integer, number]`, so an integer stays an `int` (any
  size, no `.0`) and a fraction a `float`.
- Formats are annotations (`formats = "annotate"`): every format is typed as plain text (the
  models options map each to `str`), never parsed into a `datetime` or `AnyUrl` that would write
  the value back differently. With `formats = "assert"` a format also gets its `pattern`.
- `type: null` alone is also written `enum: [null]`: inside an `allOf` that narrows a
  `[string, null]` property of another schema to `null`, datamodel-code-generator would type the
  narrowed property from the other schema's non-null type and refuse `null`.
- In an `allOf` of one `$ref` and inline schemas, an inline property that narrows an object
  property of the referenced schema is written `allOf: [<the referenced property>, <the
  narrowing>]`: datamodel-code-generator subclasses the referenced schema and would type the
  property by the narrowing alone (laxer than JSON Schema, and not a subtype for mypy); this way
  the narrowed class subclasses the referenced property's class.
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
    defs = prepared.get("$defs")
    if isinstance(defs, dict):
        for node in _nodes(prepared):
            _narrow_overrides(node, defs)
    return prepared


def _nodes(root: Any) -> list[dict[str, Any]]:
    """Every schema object below `root` (and `root`), parents first."""
    out: list[dict[str, Any]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            out.append(node)
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return out


def _narrow_overrides(node: dict[str, Any], defs: dict[str, Any]) -> None:
    parts = node.get("allOf")
    if not isinstance(parts, list):
        return
    refs = [p["$ref"] for p in parts if isinstance(p, dict) and isinstance(p.get("$ref"), str)]
    if len(refs) != 1 or not refs[0].startswith("#/$defs/"):
        return
    base = defs.get(refs[0].removeprefix("#/$defs/"))
    inherited = base.get("properties") if isinstance(base, dict) else None
    if not isinstance(inherited, dict):
        return
    for part in parts:
        own = part.get("properties") if isinstance(part, dict) and "$ref" not in part else None
        if not isinstance(own, dict):
            continue
        for name, narrowing in own.items():
            wider = inherited.get(name)
            if isinstance(narrowing, dict) and _is_object(narrowing) and isinstance(wider, dict) and (
                "$ref" in wider or _is_object(wider)
            ):
                own[name] = {"allOf": [wider, narrowing]}


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
    if kind == "null" and "enum" not in out and "const" not in out:
        out["enum"] = [None]
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
