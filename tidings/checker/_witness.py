"""Witnesses: a concrete message the writer's schema accepts and the reader's schema refuses.

A witness proves a breaking finding. It is looked for in two steps: first constructed from the
change (the JSON pointer leads to the instance location, where values are tried that one side's
keywords allow and the other's do not), then, within a time budget, searched for among random
instances of the writer's schema. Every candidate is checked with a real validator
(jsonschema-rs): the writer must accept it, the reader must refuse it. Under the ``lenient``
policy the writer also sends declared fields only (an object that declares properties carries no
others), so a candidate must pass that "producer view" of the writer as well.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from tidings.checker._samples import Sampler, json_type
from tidings.checker._shapes import tuple_parts

_DRAFT_2020 = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class Witness:
    """An example message: `instance` is valid under the writer's schema (as its producers send
    it) and invalid under the reader's; `refusal` is the reader's validation error
    (``/qty: "3" is not of type "integer"``); `found_by` is ``constructed`` or ``search``."""

    instance: Any
    refusal: str
    found_by: str

    @property
    def text(self) -> str:
        """The instance as compact JSON (keys sorted)."""
        return json.dumps(self.instance, sort_keys=True, separators=(", ", ": "),
                          ensure_ascii=False)


@dataclass(frozen=True)
class WitnessOutcome:
    """What a witness search returned: the `witness`, or the `reason` none was found."""

    witness: Witness | None
    reason: str | None = None


class _Judge:
    """The writer's and reader's validators, and the producer view under `lenient`."""

    def __init__(self, writer: Any, reader: Any, declared_only: bool) -> None:
        self.writer = _validator(_canon(writer))
        self.view = _validator(_canon(producer_view(writer))) if declared_only else None
        self.reader = _validator(_canon(reader))

    def refusal(self, instance: Any) -> str | None:
        """The reader's first error when the writer accepts `instance` and the reader refuses it,
        else None."""
        if not self.writer.is_valid(instance):
            return None
        if self.view is not None and not self.view.is_valid(instance):
            return None
        errors = list(self.reader.iter_errors(instance))
        if not errors:
            return None
        error = min(errors, key=lambda e: len(e.instance_path))
        where = "".join(f"/{_esc(str(p))}" for p in error.instance_path) or "/"
        return f"{where}: {error.message}"


def _esc(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _canon(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True)


@lru_cache(maxsize=4096)
def _validator(text: str) -> Any:
    import jsonschema_rs  # on first use: loading a catalog does not pay for it

    schema = json.loads(text)
    if isinstance(schema, dict) and "$schema" not in schema:
        schema = {"$schema": _DRAFT_2020, **schema}
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def find_witness(
    writer: Any, reader: Any, *, pointer: str | None = None, declared_only: bool = False,
    budget: float = 0.05, seed: int = 0,
) -> WitnessOutcome:
    """Look for a message `writer` accepts (sending declared fields only when `declared_only`)
    and `reader` refuses: constructed at `pointer` (a JSON pointer into either schema) first,
    then searched among random writer instances for at most `budget` seconds."""
    try:
        judge = _Judge(writer, reader, declared_only)
    except Exception as exc:  # a schema the validator cannot compile
        return WitnessOutcome(None, f"the validator cannot compile the schemas ({exc})")
    sampler = Sampler(writer, extras=not declared_only)
    deadline = time.perf_counter() + budget
    tried = 0
    for candidate in _constructed(writer, reader, pointer, sampler):
        tried += 1
        refusal = judge.refusal(candidate)
        if refusal is not None:
            return WitnessOutcome(Witness(candidate, refusal, "constructed"))
        if tried % 64 == 0 and time.perf_counter() > deadline:
            break
    rng = random.Random(seed)
    searched = 0
    while time.perf_counter() < deadline:
        searched += 1
        candidate = sampler.sample(writer, rng)
        if candidate is Sampler.NOTHING:
            return WitnessOutcome(None, "the writer's schema accepts no message at all")
        refusal = judge.refusal(candidate)
        if refusal is not None:
            return WitnessOutcome(Witness(candidate, refusal, "search"))
    return WitnessOutcome(None, (
        f"no message found that the writer's schema accepts and the reader's refuses "
        f"({tried} constructed, {searched} random, {budget * 1000:.0f} ms)"))


# -- construction ----------------------------------------------------------------------------------
def _steps(pointer: str | None) -> list[str]:
    if not pointer or pointer == "/":
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]


_STOP = frozenset({"anyOf", "oneOf", "allOf", "not", "if", "then", "else", "$ref",
                   "dependentSchemas", "dependencies", "contains"})


def _location(writer: Any, reader: Any, pointer: str | None, sampler: Sampler
              ) -> tuple[list[str | int], Any, Any, str | None]:
    """The instance path the schema pointer leads to, with the writer's and reader's schemas
    there (the walk stops at combinators: their branches share the instance location), and the
    property whose presence a dependency at that place is about."""
    steps = _steps(pointer)
    path: list[str | int] = []
    trigger: str | None = None
    w, r = sampler.deref(writer, writer), sampler.deref(reader, reader)
    i = 0
    while i < len(steps):
        key = steps[i]
        if key in ("dependentSchemas", "dependentRequired", "dependencies") and i + 1 < len(steps):
            trigger = steps[i + 1]
            break
        if key in _STOP:
            break
        if key == "properties" and i + 1 < len(steps):
            name = steps[i + 1]
            path.append(name)
            w, r = _child(w, name, writer, sampler), _child(r, name, reader, sampler)
            i += 2
        elif key in ("additionalProperties", "unevaluatedProperties"):
            name = _undeclared(w, r)
            path.append(name)
            w, r = _child(w, name, writer, sampler), _child(r, name, reader, sampler)
            i += 1
        elif key == "patternProperties" and i + 1 < len(steps):
            name = sampler.string_matching(steps[i + 1]) or "a"
            path.append(name)
            w, r = _child(w, name, writer, sampler), _child(r, name, reader, sampler)
            i += 2
        elif key in ("items", "prefixItems") and i + 1 < len(steps) and steps[i + 1].isdigit():
            index = int(steps[i + 1])
            path.append(index)
            w, r = _item(w, index, writer, sampler), _item(r, index, reader, sampler)
            i += 2
        elif key in ("items", "additionalItems", "unevaluatedItems"):
            index = max(_prefix_len(w), _prefix_len(r))
            path.append(index)
            w, r = _item(w, index, writer, sampler), _item(r, index, reader, sampler)
            i += 1
        else:
            break
    return path, w, r, trigger


def _child(s: Any, name: str, root: Any, sampler: Sampler) -> Any:
    if not isinstance(s, dict):
        return s
    props = s.get("properties") or {}
    if name in props:
        return sampler.deref(props[name], root)
    for pat, sub in (s.get("patternProperties") or {}).items():
        if sampler.matches(pat, name):
            return sampler.deref(sub, root)
    return sampler.deref(s.get("additionalProperties", s.get("unevaluatedProperties", True)), root)


def _prefix_len(s: Any) -> int:
    if not isinstance(s, dict):
        return 0
    if isinstance(s.get("prefixItems"), list):
        return len(s["prefixItems"])
    if isinstance(s.get("items"), list):
        return len(s["items"])
    return 0


def _item(s: Any, index: int, root: Any, sampler: Sampler) -> Any:
    if not isinstance(s, dict):
        return s
    pre, rest = tuple_parts(s)
    return sampler.deref(pre[index] if index < len(pre) else rest, root)


def _undeclared(w: Any, r: Any) -> str:
    taken: set[str] = set()
    for s in (w, r):
        if isinstance(s, dict):
            taken |= set(s.get("properties") or {})
    return next(n for n in ("extra", "other", "x", "zz_extra") if n not in taken)


def _constructed(writer: Any, reader: Any, pointer: str | None, sampler: Sampler
                 ) -> Iterator[Any]:
    """Candidates built at the change's instance location, most telling first (lazily: the
    first few usually decide)."""
    path, w, r, trigger = _location(writer, reader, pointer, sampler)
    minimal = sampler.first(writer)
    base = {} if minimal is Sampler.NOTHING else minimal
    if trigger is not None:  # a dependency: the property that triggers it, with any value
        for value in _GENERIC:
            built = sampler.place(writer, base, [*path, trigger], value)
            if built is not Sampler.NOTHING:
                yield built
    values: list[Any] = []

    def around(doc: Any, fresh: bool) -> Iterator[Any]:
        for value in _distinct(_probes(w, r, sampler)) if fresh else iter(values):
            if fresh:
                values.append(value)
            built = sampler.place(writer, doc, path, value)
            if built is not Sampler.NOTHING:
                yield built
        if path:
            gone = sampler.without(doc, path)
            if gone is not Sampler.NOTHING:
                yield gone

    yield from around(base, True)
    for other in sampler.bases(writer):
        if other != base:
            yield from around(other, False)
            yield other
    yield base


def _distinct(values: Iterator[Any]) -> Iterator[Any]:
    seen: set[str] = set()
    for v in values:
        key = json.dumps(v, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            yield v


def _probes(w: Any, r: Any, sampler: Sampler) -> Iterator[Any]:
    """Values that the writer's schema `w` may allow and the reader's `r` may refuse: values of
    each side's keywords at their bounds, the writer's own samples, then one of every type."""
    yield from sampler.examples(w)
    for s in (w, r):
        if isinstance(s, dict):
            yield from _edge_values(s, sampler)
    yield from sampler.examples(r)
    yield from _GENERIC


_GENERIC: tuple[Any, ...] = (
    None, True, False, 0, 1, -1, 0.5, -0.5, 2**31, "", "a", "0", "zz", [], [None], [0, 0],
    [{}], {}, {"a": None},
)


def _edge_values(s: dict[str, Any], sampler: Sampler) -> Iterator[Any]:
    for key in ("enum",):
        if isinstance(s.get(key), list):
            yield from s[key]
    if "const" in s:
        yield s["const"]
    for key, step in (("minimum", -1), ("maximum", 1), ("exclusiveMinimum", 0),
                      ("exclusiveMaximum", 0)):
        v = s.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool):
            yield from (v, v + step, v - 1, v + 1, v - 0.5, v + 0.5)
    m = s.get("multipleOf")
    if isinstance(m, int | float) and not isinstance(m, bool) and m > 0:
        yield from (m, m * 2, m * 3, m / 2)
    for key in ("minLength", "maxLength"):
        n = s.get(key)
        if isinstance(n, int) and not isinstance(n, bool):
            for k in (n - 1, n, n + 1):
                if 0 <= k <= 10_000:
                    yield "a" * k
    if isinstance(s.get("pattern"), str):
        found = sampler.string_matching(s["pattern"])
        if found is not None:
            yield found
    for key in ("minItems", "maxItems", "minContains", "maxContains"):
        n = s.get(key)
        if isinstance(n, int) and not isinstance(n, bool):
            for k in (n - 1, n, n + 1):
                if 0 <= k <= 1000:
                    item = sampler.first(s.get("contains", s.get("items", {})))
                    yield [item] * k
                    yield [sampler.distinct_value(i) for i in range(k)]
    for key in ("minProperties", "maxProperties"):
        n = s.get(key)
        if isinstance(n, int) and not isinstance(n, bool):
            for k in (n - 1, n, n + 1):
                if 0 <= k <= 1000:
                    yield {f"p{i}": sampler.distinct_value(i) for i in range(k)}
    t = json_type(s)
    if t == "array" or "items" in s or "prefixItems" in s:
        item = sampler.first(s.get("items", {}) if not isinstance(s.get("items"), list) else {})
        yield [item, item]


def producer_view(schema: Any) -> Any:
    """The writer as lenient producers use it: every object that declares properties (directly,
    through its combinators or a `$ref`) carries no undeclared ones (``unevaluatedProperties:
    false``). A draft-07 schema is translated to 2020-12 for this."""
    dialect = str(schema.get("$schema", "")) if isinstance(schema, dict) else ""
    draft7 = "draft-07" in dialect or "draft-06" in dialect
    root = _to_2020(schema) if draft7 else schema

    def lookup(ref: str) -> Any:
        return Sampler.pointer(root, ref)

    out = _view(root, lookup, branch=False, seen=frozenset())
    if isinstance(out, dict):
        out = {**out, "$schema": _DRAFT_2020}
    return out


def _declares(s: Any, lookup: Callable[[str], Any], seen: frozenset[str]) -> bool:
    if not isinstance(s, dict):
        return False
    if s.get("properties"):
        return True
    ref = s.get("$ref")
    if isinstance(ref, str) and ref not in seen and _declares(lookup(ref), lookup, seen | {ref}):
        return True
    return any(_declares(b, lookup, seen) for k in ("allOf", "anyOf", "oneOf")
               for b in (s.get(k) or []))


_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SUBSCHEMA_ONE = ("additionalProperties", "unevaluatedProperties", "items", "contains", "not",
                  "if", "then", "else", "propertyNames", "unevaluatedItems")


def _view(s: Any, lookup: Callable[[str], Any], *, branch: bool, seen: frozenset[str]) -> Any:
    if not isinstance(s, dict):
        return s
    out: dict[str, Any] = {}
    for key, value in s.items():
        if key in _SUBSCHEMA_MAPS and isinstance(value, dict):
            out[key] = {n: _view(v, lookup, branch=key in ("$defs", "definitions"), seen=seen)
                        for n, v in value.items()}
        elif key in _SUBSCHEMA_ONE:
            out[key] = _view(value, lookup, branch=False, seen=seen)
        elif key in ("allOf", "anyOf", "oneOf", "prefixItems") and isinstance(value, list):
            out[key] = [_view(v, lookup, branch=key != "prefixItems", seen=seen) for v in value]
        else:
            out[key] = value
    if (not branch and "additionalProperties" not in s and "unevaluatedProperties" not in s
            and _declares(s, lookup, seen)):
        out["unevaluatedProperties"] = False
    return out


def _to_2020(s: Any) -> Any:
    """A draft-07 schema in 2020-12 terms (tuples, dependencies), for the producer view."""
    if isinstance(s, list):
        return [_to_2020(x) for x in s]
    if not isinstance(s, dict):
        return s
    out = {k: _to_2020(v) for k, v in s.items() if k not in ("items", "additionalItems",
                                                              "dependencies", "$schema")}
    if isinstance(s.get("items"), list):
        out["prefixItems"] = _to_2020(s["items"])
        if "additionalItems" in s:
            out["items"] = _to_2020(s["additionalItems"])
    elif "items" in s:
        out["items"] = _to_2020(s["items"])
    deps = s.get("dependencies")
    if isinstance(deps, dict):
        req = {k: v for k, v in deps.items() if isinstance(v, list)}
        sch = {k: _to_2020(v) for k, v in deps.items() if not isinstance(v, list)}
        if req:
            out["dependentRequired"] = req
        if sch:
            out["dependentSchemas"] = sch
    return out
