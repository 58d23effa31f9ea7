"""The JSON Schema 2020-12 meta-schema, made static for speed.

The official meta-schema extends itself through `$dynamicRef: "#meta"`, which `jsonschema`
resolves by scanning the dynamic scope at every subschema: most of the cost of checking a large
catalog. Nothing extends the meta-schema here, so every `#meta` is simply the whole meta-schema:
this module rebuilds it as one document with plain `$ref`s (same verdicts; a test compares them).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urldefrag, urljoin

from jsonschema import Draft202012Validator
from jsonschema_specifications import REGISTRY  # type: ignore[import-untyped]

ROOT = "https://json-schema.org/draft/2020-12/schema"
_DROP_AT_ROOT = ("$id", "$schema", "$vocabulary", "$dynamicAnchor")


def _name(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def _rewrite(node: Any, base: str) -> Any:
    if isinstance(node, list):
        return [_rewrite(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$dynamicRef" and value == "#meta":
            out["$ref"] = "#"
        elif key == "$ref" and isinstance(value, str):
            uri, fragment = urldefrag(urljoin(base, value))
            if uri == ROOT and not fragment:
                out["$ref"] = "#"
            elif fragment.startswith("/$defs/"):
                out["$ref"] = f"#/$defs/{_name(uri)}__{fragment.removeprefix('/$defs/')}"
            elif not fragment:
                out["$ref"] = f"#/$defs/{_name(uri)}"
            else:  # pragma: no cover - the official meta-schemas have no other shapes
                raise ValueError(f"unexpected $ref {value!r} in {base}")
        elif key == "$dynamicAnchor" and isinstance(value, str):
            continue
        else:
            out[key] = _rewrite(value, base)
    return out


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """Replace `$ref`s to `#/$defs/...` by their (non-recursive) targets; keep `#`."""
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    inlined = isinstance(ref, str) and ref.startswith("#/$defs/")
    rest = {k: _inline(v, defs) for k, v in node.items() if not (k == "$ref" and inlined)}
    if inlined:
        assert isinstance(ref, str)
        target = _inline(defs[ref.removeprefix("#/$defs/")], defs)
        if not set(target) & set(rest):
            return {**target, **rest}
        return {"allOf": [target], **rest}
    return rest


@cache
def static_meta_schema() -> dict[str, Any]:
    """The 2020-12 meta-schema as one document whose only `$ref` is `#` (cached; do not mutate).

    Every vocabulary meta-schema is `type: [object, boolean]` plus `properties`, with disjoint
    keywords, so their `allOf` is the union of their `properties`.
    """
    root = copy.deepcopy(REGISTRY.contents(ROOT))
    defs: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for ref in root.pop("allOf"):
        uri = urljoin(ROOT, ref["$ref"])
        vocab = copy.deepcopy(REGISTRY.contents(uri))
        for name, sub in vocab.pop("$defs", {}).items():
            defs[f"{_name(uri)}__{name}"] = _rewrite(sub, uri)
        if set(vocab) - {*_DROP_AT_ROOT, "title", "type", "properties"} or vocab["type"] != [
            "object", "boolean"
        ]:  # pragma: no cover - guards against a future meta-schema of another shape
            raise ValueError(f"unexpected shape of {uri}")
        vocab_properties = _rewrite(vocab["properties"], uri)
        if set(vocab_properties) & set(properties):  # pragma: no cover - same guard
            raise ValueError(f"overlapping keywords in {uri}")
        properties.update(vocab_properties)
    properties.update(_rewrite(root["properties"], ROOT))
    return {
        "$schema": ROOT,
        "type": ["object", "boolean"],
        "properties": _inline(properties, defs),
    }


@cache
def meta_validator() -> Draft202012Validator:
    """A validator of payload schemas: the static meta-schema, formats (`regex`) checked."""
    return Draft202012Validator(
        static_meta_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def _format_check(name: str) -> Callable[[str], bool]:
    checker = Draft202012Validator.FORMAT_CHECKER
    if name not in checker.checkers:
        return lambda _: True  # `jsonschema` does not check this format either
    return lambda value: checker.conforms(value, name)


@cache
def _fast_meta_validator() -> Any:
    """The static meta-schema compiled by `jsonschema-rs`, each format judged by the same
    `jsonschema` format checker as `meta_validator()` (Python's `re` for `regex`, not Rust's)."""
    formats: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                formats.add(node["format"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(static_meta_schema())
    import jsonschema_rs  # on first use: commands that load no catalog do not pay for it

    return jsonschema_rs.Draft202012Validator(
        static_meta_schema(),
        validate_formats=True,
        formats={name: _format_check(name) for name in sorted(formats)},
    )


def surely_valid(schema: Any, meta_schema: Any = None) -> bool:
    """True only when `schema` certainly passes `meta_validator()` (a compiled check, ~100 times
    faster); False means "ask `meta_validator()`", which alone words the errors. With
    `meta_schema` (draft 7's or 2019-09's official one), the same for that draft's validator."""
    try:
        fast = _fast_meta_validator() if meta_schema is None else _fast_draft_validator(
            meta_schema["$schema"])
        return bool(fast.is_valid(schema))
    except Exception:  # values Rust cannot take (huge integers, ...): let jsonschema judge
        return False


@cache
def _fast_draft_validator(uri: str) -> Any:
    """The official meta-schema of draft 7 or 2019-09 (by its `$schema` URI) compiled by
    `jsonschema-rs`, formats judged by `jsonschema`'s checker of that draft."""
    import jsonschema_rs
    from jsonschema import Draft7Validator, Draft201909Validator

    cls = Draft7Validator if "draft-07" in uri else Draft201909Validator
    rust = jsonschema_rs.Draft7Validator if cls is Draft7Validator else (
        jsonschema_rs.Draft201909Validator)
    checker = cls.FORMAT_CHECKER
    return rust(cls.META_SCHEMA, validate_formats=True, formats={
        name: (lambda value, name=name: checker.conforms(value, name))
        for name in checker.checkers})
