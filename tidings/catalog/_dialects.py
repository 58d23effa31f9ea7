"""JSON Schema drafts: which one a schema resource is written in, its meta-schema, and its
translation into the one dialect tidings generates code from and compares (2020-12)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from jsonschema import Draft7Validator, Draft201909Validator, Draft202012Validator
from jsonschema.protocols import Validator
from referencing import Specification
from referencing.jsonschema import DRAFT7, DRAFT201909, DRAFT202012


@dataclass(frozen=True)
class Dialect:
    """One supported draft: its `$schema` URI, `referencing` specification and validator class."""

    name: str
    uri: str
    specification: Specification[Any]
    validator: type[Validator]

    @property
    def latest(self) -> bool:
        """True for 2020-12, the dialect tidings translates every other one into."""
        return self is DRAFT_2020_12


DRAFT_7 = Dialect("draft 7", "http://json-schema.org/draft-07/schema", DRAFT7, Draft7Validator)
DRAFT_2019_09 = Dialect(
    "draft 2019-09", "https://json-schema.org/draft/2019-09/schema", DRAFT201909,
    Draft201909Validator,
)
DRAFT_2020_12 = Dialect(
    "draft 2020-12", "https://json-schema.org/draft/2020-12/schema", DRAFT202012,
    Draft202012Validator,
)
DIALECTS = (DRAFT_7, DRAFT_2019_09, DRAFT_2020_12)
_BY_URI = {d.uri.rstrip("#"): d for d in DIALECTS} | {
    d.uri.replace("https://", "http://"): d for d in DIALECTS
} | {d.uri.replace("http://", "https://"): d for d in DIALECTS}


def dialect_of(uri: Any) -> Dialect | None:
    """The dialect a `$schema` value names (None when tidings does not support it)."""
    if not isinstance(uri, str):
        return None
    return _BY_URI.get(uri.rstrip("#"))


def file_dialect(data: Any) -> Dialect | None:
    """The dialect of a schema file or payload: its `$schema`, else 2020-12 (None: unsupported)."""
    if isinstance(data, dict) and "$schema" in data:
        return dialect_of(data["$schema"])
    return DRAFT_2020_12


def supported_dialects() -> str:
    """The `$schema` URIs tidings accepts, for error messages."""
    return ", ".join(d.uri for d in DIALECTS)


@cache
def meta_validator_of(dialect: Dialect) -> Validator:
    """A validator of schemas written in `dialect` (its official meta-schema, formats checked)."""
    cls = dialect.validator
    return cls(cls.META_SCHEMA, format_checker=cls.FORMAT_CHECKER)


# Keywords with no meaning for validation once every `$ref` points into one bundle.
_DROPPED = frozenset({
    "$id", "$anchor", "$dynamicAnchor", "$recursiveAnchor", "$vocabulary", "$comment", "$defs",
    "definitions",
})
# draft 7: the keywords that `$ref` leaves in force (the others beside a `$ref` are ignored).
_BESIDE_REF_7 = frozenset({"$ref", "title", "description", "$comment", "definitions", "$id"})


def translate(node: dict[str, Any], dialect: Dialect, known: frozenset[str],
              walk: Callable[[str, Any], Any]) -> dict[str, Any]:
    """`node` (one schema object written in `dialect`) as 2020-12: `walk(key, value)` gives each
    kept keyword's translated value. Drafts 7 and 2019-09: a list under `items` becomes
    `prefixItems` (and `additionalItems` the `items` after it); draft 7: `dependencies` splits
    into `dependentRequired` and `dependentSchemas`, and keywords beside `$ref` are dropped, as
    that draft ignores them. Resource and definition keywords are dropped (every `$ref` has been
    rewritten into the bundle), and so are unknown keywords (annotations); `x-` extensions stay.
    """
    if dialect is DRAFT_7 and "$ref" in node:
        node = {k: v for k, v in node.items() if k in _BESIDE_REF_7}
    out: dict[str, Any] = {}
    tuple_items = not dialect.latest and isinstance(node.get("items"), list)
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key == "$schema":
            if dialect.latest:
                out[key] = value  # kept as written: the fingerprint of 2020-12 catalogs
            continue
        if key in ("$recursiveRef", "$dynamicRef"):
            out["$ref"] = walk(key, value)
        elif key == "items" and tuple_items:
            out["prefixItems"] = walk(key, value)
        elif key == "additionalItems" and not dialect.latest:
            if tuple_items:
                out["items"] = walk(key, value)
        elif key == "dependencies" and dialect is DRAFT_7 and isinstance(value, dict):
            names = {k: v for k, v in value.items() if isinstance(v, list)}
            schemas = {k: v for k, v in value.items() if not isinstance(v, list)}
            if names:
                out["dependentRequired"] = names
            if schemas:
                out["dependentSchemas"] = walk("dependentSchemas", schemas)
        elif key in known or key.startswith("x-"):
            out[key] = walk(key, value)
    return out
