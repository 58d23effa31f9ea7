"""Instances of a JSON Schema: minimal, full and random ones, for the witness search.

The sampler aims at valid instances but does not promise them: a validator judges every
candidate afterwards. It reads `$ref`s local to its root (``#/$defs/...``, ``#/definitions/...``),
both tuple forms (``prefixItems`` and draft-07 ``items: [...]``), and folds ``allOf`` branches.
"""

from __future__ import annotations

import copy
import random
import re
import string
import uuid
from collections.abc import Iterator
from typing import Any

from tidings.checker._shapes import resolve_local_ref, tuple_parts

_FORMATS: dict[str, str] = {
    "uuid": str(uuid.UUID(int=1)),
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "email": "a@example.com",
    "idn-email": "a@example.com",
    "uri": "https://example.com/",
    "uri-reference": "https://example.com/",
    "iri": "https://example.com/",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "duration": "P1D",
    "regex": "a",
    "json-pointer": "/a",
}


def json_type(s: Any) -> str | None:
    """The single JSON type a schema names or implies by its keywords, or None."""
    if not isinstance(s, dict):
        return None
    t = s.get("type")
    if isinstance(t, str):
        return t
    if isinstance(t, list) and t:
        return str(t[0])
    if any(k in s for k in ("properties", "required", "additionalProperties", "minProperties",
                            "maxProperties", "patternProperties", "dependentRequired")):
        return "object"
    if any(k in s for k in ("items", "prefixItems", "minItems", "maxItems", "contains",
                            "uniqueItems", "additionalItems")):
        return "array"
    if any(k in s for k in ("minLength", "maxLength", "pattern", "format")):
        return "string"
    if any(k in s for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                            "multipleOf")):
        return "number"
    return None


class _Nothing:
    def __repr__(self) -> str:
        return "NOTHING"


class Sampler:
    """Instances of schemas under one `root` (the document its `$ref`s point into); `extras`
    allows undeclared properties in random samples."""

    NOTHING: Any = _Nothing()
    """Returned when a schema (or a placement) admits no value."""

    def __init__(self, root: Any, *, extras: bool = True, depth: int = 6) -> None:
        self.root = root
        self.extras = extras
        self.depth = depth

    # -- references and regexes ----------------------------------------------------------------
    @staticmethod
    def pointer(root: Any, ref: str) -> Any:
        """The subschema a local `$ref` names, or True when it is not local or not found."""
        found = resolve_local_ref(root, ref)
        return True if found is None else found

    def deref(self, s: Any, root: Any | None = None) -> Any:
        """`s` with its `$ref` chain resolved (sibling keywords kept), and `allOf` folded."""
        root = self.root if root is None else root
        hops = 0
        while isinstance(s, dict) and isinstance(s.get("$ref"), str) and hops < 32:
            hops += 1
            target = self.pointer(root, s["$ref"])
            rest = {k: v for k, v in s.items() if k != "$ref"}
            if target is False:
                return False
            s = rest if target is True else ({**target, **rest} if rest else target)
        if isinstance(s, dict) and isinstance(s.get("allOf"), list):
            s = self._fold(s, root)
        return s

    def _fold(self, s: dict[str, Any], root: Any) -> Any:
        out: dict[str, Any] = {k: v for k, v in s.items() if k != "allOf"}
        for branch in s["allOf"]:
            b = self.deref(branch, root)
            if b is False:
                return False
            if not isinstance(b, dict):
                continue
            for key, value in b.items():
                if key == "properties" and isinstance(value, dict):
                    out["properties"] = {**value, **(out.get("properties") or {})}
                elif key == "required" and isinstance(value, list):
                    out["required"] = sorted({*out.get("required", []), *value})
                elif key not in out:
                    out[key] = value
        return out

    @staticmethod
    def matches(pattern: str, name: str) -> bool:
        """True when `pattern` (an ECMA regex, read as a Python one) finds a match in `name`."""
        try:
            return re.search(pattern, name) is not None
        except re.error:
            return False

    def string_matching(self, pattern: str) -> str | None:
        """A short string `pattern` matches, or None."""
        for candidate in _regex_strings(pattern):
            if self.matches(pattern, candidate):
                return candidate
        return None

    @staticmethod
    def distinct_value(i: int) -> Any:
        """The i-th of a run of distinct, simple values."""
        return i

    # -- deterministic instances ---------------------------------------------------------------
    def first(self, s: Any, root: Any | None = None) -> Any:
        """A minimal instance (required content only), or NOTHING."""
        return self._minimal(s, root, self.depth, full=False)

    def examples(self, s: Any, root: Any | None = None) -> Iterator[Any]:
        """A few instances of `s`: minimal, full (every declared property), per branch."""
        s = self.deref(s, root)
        if s is False:
            return
        for full in (False, True):
            v = self._minimal(s, root, self.depth, full=full)
            if v is not self.NOTHING:
                yield v
        if isinstance(s, dict):
            rest = {k: v for k, v in s.items() if k not in ("anyOf", "oneOf")}
            for key in ("anyOf", "oneOf"):
                for branch in s.get(key) or []:
                    b = self.deref(branch, root)
                    if isinstance(b, dict):
                        for full in (False, True):
                            v = self._minimal({**rest, **b}, root, self.depth, full=full)
                            if v is not self.NOTHING:
                                yield v
            types = s.get("type")
            for t in types if isinstance(types, list) else []:
                v = self._minimal({**s, "type": t}, root, self.depth, full=False)
                if v is not self.NOTHING:
                    yield v

    def bases(self, writer: Any) -> list[Any]:
        """Whole instances of `writer` to place a probe value in: minimal, then full."""
        out = []
        for full in (False, True):
            v = self._minimal(writer, None, self.depth, full=full)
            if v is not self.NOTHING and v not in out:
                out.append(v)
        return out or [{}]

    def place(self, writer: Any, base: Any, path: list[str | int], value: Any) -> Any:
        """A copy of `base` with `value` at `path`, building missing containers from `writer`."""
        if not path:
            return copy.deepcopy(value)
        doc = copy.deepcopy(base)
        node: Any = doc
        schema = self.deref(writer)
        for i, step in enumerate(path):
            last = i == len(path) - 1
            if isinstance(step, str):
                if not isinstance(node, dict):
                    return self.NOTHING
                sub = _sub_property(self, schema, step)
                if last:
                    node[step] = copy.deepcopy(value)
                    break
                if not isinstance(node.get(step), dict | list):
                    made = self._minimal(sub, None, self.depth, full=False)
                    node[step] = {} if made is self.NOTHING else made
                node, schema = node[step], sub
            else:
                if not isinstance(node, list):
                    return self.NOTHING
                sub = _sub_item(self, schema, step)
                while len(node) <= step:
                    filler = self._minimal(_sub_item(self, schema, len(node)), None, self.depth,
                                           full=False)
                    node.append(None if filler is self.NOTHING else filler)
                if last:
                    node[step] = copy.deepcopy(value)
                    break
                if not isinstance(node[step], dict | list):
                    made = self._minimal(sub, None, self.depth, full=False)
                    node[step] = {} if made is self.NOTHING else made
                node, schema = node[step], sub
        return doc

    def without(self, base: Any, path: list[str | int]) -> Any:
        """A copy of `base` without the member at `path` (NOTHING when it is not there)."""
        doc = copy.deepcopy(base)
        node: Any = doc
        for step in path[:-1]:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                return self.NOTHING
        last = path[-1]
        if isinstance(node, dict) and isinstance(last, str) and last in node:
            del node[last]
            return doc
        return self.NOTHING

    def _minimal(self, s: Any, root: Any | None, depth: int, *, full: bool) -> Any:
        s = self.deref(s, root)
        if s is False:
            return self.NOTHING
        if s is True or not isinstance(s, dict):
            return None if depth < self.depth else {}
        if "const" in s:
            return copy.deepcopy(s["const"])
        if isinstance(s.get("enum"), list) and s["enum"]:
            return copy.deepcopy(s["enum"][0])
        for key in ("anyOf", "oneOf"):
            if isinstance(s.get(key), list) and s[key]:
                rest = {k: v for k, v in s.items() if k not in ("anyOf", "oneOf")}
                for branch in s[key]:
                    b = self.deref(branch, root)
                    if b is False:
                        continue
                    merged = {**rest, **b} if isinstance(b, dict) else rest
                    v = self._minimal(merged, root, depth, full=full)
                    if v is not self.NOTHING:
                        return v
                return self.NOTHING
        t = json_type(s)
        if t is None:
            return {} if depth == self.depth else None
        if depth <= 0 and t in ("object", "array"):
            return {} if t == "object" else []
        if t == "null":
            return None
        if t == "boolean":
            return False
        if t in ("integer", "number"):
            return _number(s, t == "integer")
        if t == "string":
            return _string(self, s)
        if t == "array":
            return self._array(s, root, depth, full)
        return self._object(s, root, depth, full)

    def _object(self, s: dict[str, Any], root: Any | None, depth: int, full: bool) -> Any:
        props: dict[str, Any] = s.get("properties") or {}
        required = [str(r) for r in s.get("required") or []]
        names = list(dict.fromkeys([*required, *(props if full else [])]))
        out: dict[str, Any] = {}
        for name in names:
            sub = props.get(name, _extra_schema(self, s, name))
            v = self._minimal(sub, root, depth - 1, full=full)
            if v is self.NOTHING:
                if name in required:
                    return self.NOTHING
                continue
            out[name] = v
        for name, deps in (s.get("dependentRequired") or {}).items():
            if name in out and isinstance(deps, list):
                for d in deps:
                    if d not in out:
                        v = self._minimal(props.get(d, True), root, depth - 1, full=False)
                        out[d] = None if v is self.NOTHING else v
        n = s.get("minProperties")
        i = 0
        while isinstance(n, int) and len(out) < n and i < 1000:
            name = f"p{i}"
            i += 1
            if name not in out:
                v = self._minimal(props.get(name, _extra_schema(self, s, name)), root,
                                  depth - 1, full=False)
                if v is not self.NOTHING:
                    out[name] = v
        return out

    def _array(self, s: dict[str, Any], root: Any | None, depth: int, full: bool) -> Any:
        pre, rest = tuple_parts(s)
        lo = s.get("minItems", 0) if isinstance(s.get("minItems"), int) else 0
        mc = s.get("minContains", 1) if "contains" in s else 0
        out: list[Any] = []
        for sub in pre[:max(lo, len(pre) if full else 0)]:
            v = self._minimal(sub, root, depth - 1, full=full)
            if v is self.NOTHING:
                break
            out.append(v)
        if "contains" in s and isinstance(mc, int):
            c = self._minimal(s["contains"], root, depth - 1, full=full)
            if c is not self.NOTHING:
                out += [copy.deepcopy(c) for _ in range(mc)]
        while len(out) < lo and len(out) < 1000:
            sub = pre[len(out)] if len(out) < len(pre) else rest
            v = self._minimal(sub, root, depth - 1, full=full)
            if v is self.NOTHING:
                return self.NOTHING
            if s.get("uniqueItems") and v in out:
                v = _vary(v, len(out))
            out.append(v)
        if full and not out and not pre:
            v = self._minimal(rest, root, depth - 1, full=True)
            if v is not self.NOTHING:
                out.append(v)
        return out

    # -- random instances ----------------------------------------------------------------------
    def sample(self, s: Any, rng: random.Random, depth: int | None = None) -> Any:
        """A random instance of `s` (NOTHING when `s` is false)."""
        depth = self.depth if depth is None else depth
        s = self.deref(s)
        if s is False:
            return self.NOTHING
        if s is True or not isinstance(s, dict) or (json_type(s) is None and not any(
                k in s for k in ("const", "enum", "anyOf", "oneOf"))):
            return _any_value(rng, depth)
        if "const" in s and rng.random() < 0.9:
            return copy.deepcopy(s["const"])
        if isinstance(s.get("enum"), list) and s["enum"] and rng.random() < 0.9:
            return copy.deepcopy(rng.choice(s["enum"]))
        for key in ("anyOf", "oneOf"):
            if isinstance(s.get(key), list) and s[key]:
                rest = {k: v for k, v in s.items() if k not in ("anyOf", "oneOf")}
                b = self.deref(rng.choice(s[key]))
                if b is False:
                    return self.NOTHING
                return self.sample({**rest, **b} if isinstance(b, dict) else rest, rng, depth)
        types = s.get("type")
        t = rng.choice(types) if isinstance(types, list) and types else json_type(s)
        if depth <= 0 and t in ("object", "array"):
            return {} if t == "object" else []
        if t == "null":
            return None
        if t == "boolean":
            return rng.random() < 0.5
        if t in ("integer", "number"):
            return _random_number(s, t == "integer", rng)
        if t == "string":
            return _random_string(self, s, rng)
        if t == "array":
            return self._random_array(s, rng, depth)
        return self._random_object(s, rng, depth)

    def _random_object(self, s: dict[str, Any], rng: random.Random, depth: int) -> Any:
        props: dict[str, Any] = s.get("properties") or {}
        required = {str(r) for r in s.get("required") or []}
        out: dict[str, Any] = {}
        for name in [*props, *sorted(required - set(props))]:
            if name in required or rng.random() < 0.5:
                v = self.sample(props.get(name, _extra_schema(self, s, name)), rng, depth - 1)
                if v is not self.NOTHING:
                    out[name] = v
        if (self.extras or not props) and rng.random() < 0.3:
            for pat, sub in (s.get("patternProperties") or {}).items():
                key = self.string_matching(pat)
                if key is not None:
                    v = self.sample(sub, rng, depth - 1)
                    if v is not self.NOTHING:
                        out[key] = v
            extra = s.get("additionalProperties", True)
            if extra is not False:
                v = self.sample(extra, rng, depth - 1)
                if v is not self.NOTHING:
                    out[rng.choice(["extra", "x", "k1"])] = v
        for name, deps in (s.get("dependentRequired") or {}).items():
            if name in out and isinstance(deps, list):
                for d in deps:
                    if d not in out:
                        v = self.sample(props.get(d, True), rng, depth - 1)
                        out[d] = None if v is self.NOTHING else v
        return out

    def _random_array(self, s: dict[str, Any], rng: random.Random, depth: int) -> Any:
        pre, rest = tuple_parts(s)
        lo = s.get("minItems", 0) if isinstance(s.get("minItems"), int) else 0
        hi = s.get("maxItems", lo + 4) if isinstance(s.get("maxItems"), int) else lo + 4
        n = rng.randint(lo, max(lo, min(hi, lo + 4)))
        out: list[Any] = []
        for i in range(n):
            sub = pre[i] if i < len(pre) else rest
            if "contains" in s and rng.random() < 0.5:
                sub = s["contains"]
            v = self.sample(sub, rng, depth - 1)
            if v is self.NOTHING:
                break
            out.append(v)
        return out


def _sub_property(sampler: Sampler, s: Any, name: str) -> Any:
    s = sampler.deref(s)
    if not isinstance(s, dict):
        return True
    props = s.get("properties") or {}
    if name in props:
        return props[name]
    return _extra_schema(sampler, s, name)


def _sub_item(sampler: Sampler, s: Any, index: int) -> Any:
    s = sampler.deref(s)
    if not isinstance(s, dict):
        return True
    pre, rest = tuple_parts(s)
    return pre[index] if index < len(pre) else rest


def _extra_schema(sampler: Sampler, s: dict[str, Any], name: str) -> Any:
    for pat, sub in (s.get("patternProperties") or {}).items():
        if sampler.matches(pat, name):
            return sub
    return s.get("additionalProperties", True)


def _vary(v: Any, i: int) -> Any:
    if isinstance(v, bool) or v is None:
        return i
    if isinstance(v, int | float):
        return v + i
    if isinstance(v, str):
        return v + str(i)
    if isinstance(v, dict):
        return {**v, f"_{i}": i}
    if isinstance(v, list):
        return [*v, i]
    return i


def _number(s: dict[str, Any], integer: bool) -> Any:
    lo = s.get("minimum")
    xlo = s.get("exclusiveMinimum")
    hi = s.get("maximum")
    xhi = s.get("exclusiveMaximum")
    step = s.get("multipleOf")
    candidates: list[float] = [0, 1, -1]
    for b, d in ((lo, 0), (xlo, 1), (hi, 0), (xhi, -1)):
        if isinstance(b, int | float) and not isinstance(b, bool):
            candidates += [b + d, b + d * 0.5, b]
    if isinstance(step, int | float) and not isinstance(step, bool) and step > 0:
        base = [c for c in candidates]
        candidates = [round(c / step) * step for c in base] + [
            (int(c / step) + k) * step for c in base for k in (0, 1, -1)]
    for c in candidates:
        if integer and c != int(c):
            continue
        if isinstance(lo, int | float) and c < lo:
            continue
        if isinstance(xlo, int | float) and not isinstance(xlo, bool) and c <= xlo:
            continue
        if isinstance(hi, int | float) and c > hi:
            continue
        if isinstance(xhi, int | float) and not isinstance(xhi, bool) and c >= xhi:
            continue
        return int(c) if c == int(c) else c
    return 0


def _random_number(s: dict[str, Any], integer: bool, rng: random.Random) -> Any:
    if rng.random() < 0.5:
        return _number(s, integer)
    lo = s.get("minimum", s.get("exclusiveMinimum", -100))
    hi = s.get("maximum", s.get("exclusiveMaximum", 100))
    lo = lo if isinstance(lo, int | float) and not isinstance(lo, bool) else -100
    hi = hi if isinstance(hi, int | float) and not isinstance(hi, bool) else 100
    if hi < lo:
        return _number(s, integer)
    if integer:
        return rng.randint(int(lo), int(hi)) if int(lo) <= int(hi) else int(lo)
    return round(rng.uniform(lo, hi), 2)


def _string(sampler: Sampler, s: dict[str, Any]) -> Any:
    lo = s.get("minLength", 0) if isinstance(s.get("minLength"), int) else 0
    if isinstance(s.get("pattern"), str):
        found = sampler.string_matching(s["pattern"])
        if found is not None:
            return found
    fmt = s.get("format")
    if isinstance(fmt, str) and fmt in _FORMATS:
        return _FORMATS[fmt]
    return "a" * lo


def _random_string(sampler: Sampler, s: dict[str, Any], rng: random.Random) -> str:
    if rng.random() < 0.5:
        out = _string(sampler, s)
        return out if isinstance(out, str) else ""
    lo = s.get("minLength", 0) if isinstance(s.get("minLength"), int) else 0
    hi = s.get("maxLength", lo + 6) if isinstance(s.get("maxLength"), int) else lo + 6
    n = rng.randint(lo, max(lo, min(hi, lo + 6)))
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def _any_value(rng: random.Random, depth: int) -> Any:
    choices: list[Any] = [None, True, 0, 1, -2, 1.5, "", "a", "xyz"]
    if depth > 0:
        choices += [[], {}, [rng.choice([0, "a"])], {"a": rng.choice([0, "a", None])}]
    return copy.deepcopy(rng.choice(choices))


def _regex_strings(pattern: str) -> Iterator[str]:
    """Short strings a regex may match: built from its literals, then a few generic ones."""
    body = pattern.lstrip("^").rstrip("$")
    literal = re.sub(r"\\(.)", r"\1", re.sub(r"[\^\$\(\)\?\*\+\{\}\|]|\[[^\]]*\]", "", body))
    yield literal
    for fill in ("a", "0", "A", "a0", "00", "aa", "abc", "123", "_"):
        yield re.sub(r"\[[^\]]*\]|\\[dws]|\.", fill[0], body).replace("^", "").replace("$", "")
        yield fill
        yield literal + fill
        yield fill + literal
