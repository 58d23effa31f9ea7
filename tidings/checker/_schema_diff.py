"""Compare two JSON Schemas (2020-12, draft-07 tuples too) and classify every change per direction.

The rules follow Confluent Schema Registry's JSON Schema difference types (see `_rules.py`), with
two policies:

- ``strict`` is Confluent's reading: an open object (no ``additionalProperties: false``) may carry
  any value under any undeclared name, so adding a property to it, or removing one, is unsafe.
- ``lenient`` (the default) is what tidings' generated pydantic models do: producers send the
  declared fields only and consumers ignore unknown ones. Closed objects stay closed
  (``additionalProperties: false`` becomes ``extra="forbid"``), and a free-form object (one that
  declares no properties) is a map whose keys are data, so it keeps the strict reading.

Directions: BACKWARD breaks when a reader using the NEW schema can not read some message the OLD
schema allowed (what replaying the stored log needs); FORWARD breaks when a reader using the OLD
schema can not read some message the NEW one allows. Every `SchemaChange` says which broke.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from tidings.checker import _rules as R
from tidings.checker._rules import Rule
from tidings.checker._shapes import resolve_local_ref

Policy = Literal["lenient", "strict", "confluent"]
"""``lenient`` (default: producers send declared fields, consumers ignore unknown ones),
``strict`` (Confluent's reading of open content models), or ``confluent`` (Confluent Schema
Registry's LENIENT verdicts, for teams migrating from the registry, its mistakes included)."""

POLICIES: tuple[Policy, ...] = ("lenient", "strict", "confluent")

_ANNOTATIONS = frozenset({
    "title", "description", "examples", "$comment", "deprecated", "readOnly", "writeOnly",
    "$id", "$schema", "$anchor", "$dynamicAnchor", "$vocabulary", "$defs", "definitions",
    "default", "contentMediaType", "contentEncoding", "contentSchema", "discriminator",
})
_HANDLED = frozenset({
    "$ref", "type", "enum", "const", "minLength", "maxLength", "pattern", "format",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "properties", "required", "additionalProperties", "unevaluatedProperties",
    "patternProperties", "minProperties", "maxProperties",
    "items", "prefixItems", "additionalItems", "unevaluatedItems", "minItems", "maxItems",
    "uniqueItems", "anyOf", "oneOf", "allOf", "not",
    "dependentRequired", "dependentSchemas", "dependencies", "contains", "minContains",
    "maxContains",
})
_SUMS = ("anyOf", "oneOf")


@dataclass(frozen=True)
class SchemaChange:
    """One difference between an old and a new schema.

    `pointer` is a JSON pointer into the new schema (into the old one for what was removed);
    `old`/`new` are the values that differ (None when absent); `breaks_backward` /
    `breaks_forward` say which reader can no longer read which writer's data.
    """

    rule: Rule
    pointer: str
    old: Any
    new: Any
    breaks_backward: bool
    breaks_forward: bool
    ref: str | None = None
    """The innermost `$ref` the change was found through (``#/$defs/Money``), if any."""
    ref_pointer: str | None = None
    """The change's pointer inside that `$ref`'s target."""

    @property
    def directions(self) -> tuple[str, ...]:
        """The directions this change breaks: a subset of ``("backward", "forward")``."""
        return tuple(
            d for d, b in (("backward", self.breaks_backward), ("forward", self.breaks_forward)) if b
        )

    @property
    def compatible(self) -> bool:
        """True when the change breaks neither direction."""
        return not (self.breaks_backward or self.breaks_forward)


def compare_schemas(
    old: Any, new: Any, *, policy: Policy = "lenient"
) -> list[SchemaChange]:
    """Every change from `old` to `new` (two resolved JSON Schemas, `$ref`s local to each root),
    sorted by pointer then rule id. Equal schemas give an empty list."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}: use one of {', '.join(POLICIES)}")
    differ = _Differ(old, new, policy)
    differ.walk(old, new, "")
    seen: set[tuple[str, str, str, str]] = set()
    out: list[SchemaChange] = []
    for c in sorted(differ.changes, key=lambda c: (c.pointer, c.rule.id)):
        key = (c.rule.id, c.pointer, _canon(c.old), _canon(c.new))
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def is_compatible(old: Any, new: Any, direction: str, *, policy: Policy = "lenient") -> bool:
    """True when no change from `old` to `new` breaks `direction`: ``backward``, ``forward`` or
    ``full``, in any case (``BACKWARD`` works too, as the catalog spells modes)."""
    direction = direction.lower() if isinstance(direction, str) else direction
    changes = compare_schemas(old, new, policy=policy)
    if direction == "backward":
        return not any(c.breaks_backward for c in changes)
    if direction == "forward":
        return not any(c.breaks_forward for c in changes)
    if direction == "full":
        return all(c.compatible for c in changes)
    raise ValueError(f"unknown direction {direction!r}")


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _esc(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _trivial(s: Any) -> bool:
    """True for a schema that accepts everything: ``true``, ``{}``, or annotations only."""
    if s is True:
        return True
    return isinstance(s, dict) and all(k in _ANNOTATIONS or k.startswith("x-") for k in s)


def _types(s: dict[str, Any]) -> set[str] | None:
    t = s.get("type")
    if t is None:
        return None
    return {t} if isinstance(t, str) else {str(x) for x in t}


def _covers(wide: set[str], narrow: set[str]) -> bool:
    return all(x in wide or (x == "integer" and "number" in wide) for x in narrow)


def _values(s: dict[str, Any]) -> list[Any] | None:
    """The values `const` and `enum` allow together (None when neither constrains)."""
    enum = list(s["enum"]) if isinstance(s.get("enum"), list) else None
    if "const" in s:
        const = _canon(s["const"])
        if enum is not None and all(_canon(v) != const for v in enum):
            return []
        return [s["const"]]
    return enum


def _fraction(x: Any) -> Fraction | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return Fraction(str(x)) if isinstance(x, float) else Fraction(x)


class _Differ:
    def __init__(self, old_root: Any, new_root: Any, policy: Policy) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.lenient = policy == "lenient"
        # Confluent's LENIENT verdicts: strict walk, then what its lenient set lets pass.
        self.confluent = policy == "confluent"
        self.changes: list[SchemaChange] = []
        self.flip = False
        self.ref_stack: set[tuple[str | None, str | None]] = set()
        self.via: list[tuple[str, str]] = []  # (ref, pointer where it was entered)
        self.same_defs = (
            isinstance(old_root, dict) and isinstance(new_root, dict)
            and old_root.get("$defs") == new_root.get("$defs")
            and old_root.get("definitions") == new_root.get("definitions")
        )

    # -- plumbing ------------------------------------------------------------------------------
    def emit(self, rule: Rule, ptr: str, old: Any, new: Any, back: bool, fwd: bool) -> None:
        if self.flip:
            back, fwd = fwd, back
        ref = ref_ptr = None
        if self.via:
            ref, entered = self.via[-1]
            inner = ptr[len(entered):] if ptr.startswith(entered) else ptr
            ref_ptr = inner if inner.startswith("/") else "/" + inner.lstrip("/")
        self.changes.append(SchemaChange(rule, ptr, old, new, back, fwd, ref, ref_ptr))

    def narrow(self, rule: Rule, ptr: str, old: Any, new: Any) -> None:
        self.emit(rule, ptr, old, new, True, False)

    def widen(self, rule: Rule, ptr: str, old: Any, new: Any) -> None:
        self.emit(rule, ptr, old, new, False, True)

    @contextmanager
    def trial(self) -> Iterator[list[SchemaChange]]:
        saved, self.changes = self.changes, []
        out = self.changes
        try:
            yield out
        finally:
            self.changes = saved

    def deref(self, s: Any, root: Any) -> tuple[Any, str | None]:
        ref_name: str | None = None
        hops = 0
        while isinstance(s, dict) and isinstance(s.get("$ref"), str) and hops < 64:
            hops += 1
            ref = s["$ref"]
            ref_name = ref
            target = resolve_local_ref(root, ref)
            if target is None:
                return {k: v for k, v in s.items() if k != "$ref"}, ref_name
            rest = {k: v for k, v in s.items() if k != "$ref"}
            if not rest or target is False:
                s = target
            elif target is True:
                s = rest
            else:
                s = {**target, **rest}
        return s, ref_name

    # -- the walk --------------------------------------------------------------------------------
    def walk(self, old: Any, new: Any, ptr: str) -> None:
        old, old_ref = self.deref(old, self.old_root)
        new, new_ref = self.deref(new, self.new_root)
        if old_ref is not None or new_ref is not None:
            key = (old_ref, new_ref)
            if key in self.ref_stack:
                return
            self.ref_stack.add(key)
            self.via.append((new_ref or old_ref or "", ptr))
            try:
                self._walk(old, new, ptr)
            finally:
                self.ref_stack.discard(key)
                self.via.pop()
        else:
            self._walk(old, new, ptr)

    def _walk(self, old: Any, new: Any, ptr: str) -> None:
        if old is new or (self.same_defs and old == new):
            return
        if old is False or new is False:
            if old is False and new is not False:
                self.widen(R.SCHEMA_REMOVED, ptr or "/", False, new)
            elif new is False and old is not False:
                self.narrow(R.SCHEMA_ADDED, ptr or "/", old, False)
            return
        old = {} if old is True else old
        new = {} if new is True else new
        if not isinstance(old, dict) or not isinstance(new, dict):
            if old != new:
                self.emit(R.KEYWORD_CHANGED, ptr or "/", old, new, True, True)
            return
        if _trivial(new):
            if not _trivial(old):
                self.widen(R.SCHEMA_REMOVED, ptr or "/", old, True)
            self._default(old, new, ptr)
            return
        mo, mn = _merge_all_of(old, self.old_root), _merge_all_of(new, self.new_root)
        if "allOf" not in mo and "allOf" not in mn:  # fold only when both sides fold
            old, new = mo, mn
        elif "allOf" in mo and "allOf" not in mn and self._one_branch_reads(mo, mn, ptr):
            return
        if any(k in old or k in new for k in _SUMS):
            self._sums(old, new, ptr)
            return
        self._types(old, new, ptr)
        self._values(old, new, ptr)
        self._strings(old, new, ptr)
        self._numbers(old, new, ptr)
        self._objects(old, new, ptr)
        self._arrays(old, new, ptr)
        self._all_of(old, new, ptr)
        self._not(old, new, ptr)
        self._other_keywords(old, new, ptr)
        self._default(old, new, ptr)

    def _one_branch_reads(self, old: dict[str, Any], new: dict[str, Any], ptr: str) -> bool:
        """allOf -> no allOf: when one old branch (with the old siblings) is readable by `new`,
        every old value is (it satisfies that branch); the other branches only narrowed old."""
        rest = {k: v for k, v in old.items() if k != "allOf"}
        branches = list(old["allOf"])
        for i, branch in enumerate(branches):
            b, _ = self.deref(branch, self.old_root)
            merged = {**rest, **b} if isinstance(b, dict) else (rest if b is True else b)
            with self.trial() as got:
                self.walk(merged, new, ptr)
            if not any(c.breaks_backward for c in got):
                self.changes.extend(c for c in got if c.breaks_forward or c.compatible)
                if len(branches) > 1:
                    self.widen(R.PRODUCT_TYPE_NARROWED, f"{ptr}/allOf/{i}", old["allOf"], None)
                return True
        return False

    # -- scalars -----------------------------------------------------------------------------------
    def _types(self, old: dict[str, Any], new: dict[str, Any], ptr: str) -> None:
        ot, nt = _types(old), _types(new)
        p = f"{ptr}/type"
        if ot is None and nt is None:
            return
        if ot is None:
            self.narrow(R.TYPE_NARROWED, p, None, new["type"])
            return
        if nt is None:
            self.widen(R.TYPE_EXTENDED, p, old["type"], None)
            return
        wider, narrower = _covers(nt, ot), _covers(ot, nt)
        if wider and narrower:
            return
        if wider:
            rule = R.NULLABLE_ADDED if (nt - ot) == {"null"} else R.TYPE_EXTENDED
            self.widen(rule, p, old["type"], new["type"])
        elif narrower:
            rule = R.NULLABLE_REMOVED if (ot - nt) == {"null"} else R.TYPE_NARROWED
            self.narrow(rule, p, old["type"], new["type"])
        else:
            self.emit(R.TYPE_CHANGED, p, old["type"], new["type"], True, True)

    def _values(self, old: dict[str, Any], new: dict[str, Any], ptr: str) -> None:
        ov, nv = _values(old), _values(new)
        if ov is None and nv is None:
            return
        uses_const = "const" in old or "const" in new
        key = "const" if "const" in new or ("const" in old and nv is None) else "enum"
        p = f"{ptr}/{key}"
        shown_old = old.get("const", old.get("enum")) if ov is not None else None
        shown_new = new.get("const", new.get("enum")) if nv is not None else None
        if ov is None:
            self.narrow(R.CONST_ADDED if uses_const else R.ENUM_NARROWED, p, None, shown_new)
            return
        if nv is None:
            self.widen(R.CONST_REMOVED if uses_const else R.ENUM_EXTENDED, p, shown_old, None)
            return
        os_, ns = {_canon(v) for v in ov}, {_canon(v) for v in nv}
        if os_ == ns:
            return
        if os_ < ns:
            self.widen(R.CONST_REMOVED if uses_const else R.ENUM_EXTENDED, p, shown_old, shown_new)
        elif ns < os_:
            self.narrow(R.CONST_ADDED if uses_const else R.ENUM_NARROWED, p, shown_old, shown_new)
        else:
            rule = R.CONST_CHANGED if uses_const else R.ENUM_CHANGED
            self.emit(rule, p, shown_old, shown_new, True, True)

    def _bound(
        self, ov: Any, nv: Any, p: str, narrowed: Rule, extended: Rule, *, upper: bool
    ) -> None:
        o, n = _fraction(ov), _fraction(nv)
        if o is None and n is None:
            return
        if o is None:
            self.narrow(narrowed, p, ov, nv)
        elif n is None:
            self.widen(extended, p, ov, nv)
        elif n != o:
            if (n > o) == upper:
                self.widen(extended, p, ov, nv)
            else:
                self.narrow(narrowed, p, ov, nv)

    def _strings(self, old: dict[str, Any], new: dict[str, Any], ptr: str) -> None:
        self._bound(old.get("maxLength"), new.get("maxLength"), f"{ptr}/maxLength",
                    R.MAX_LENGTH_NARROWED, R.MAX_LENGTH_EXTENDED, upper=True)
        self._bound(old.get("minLength", 0), new.get("minLength", 0), f"{ptr}/minLength",
                    R.MIN_LENGTH_NARROWED, R.MIN_LENGTH_EXTENDED, upper=False)
        for key, added, removed, changed in (
            ("pattern", R.PATTERN_ADDED, R.PATTERN_REMOVED, R.PATTERN_CHANGED),
            ("format", R.FORMAT_ADDED, R.FORMAT_REMOVED, R.FORMAT_CHANGED),
        ):
            o, n = old.get(key), new.get(key)
            if o == n:
                continue
            p = f"{ptr}/{key}"
            if o is None:
                self.narrow(added, p, o, n)
            elif n is None:
                self.widen(removed, p, o, n)
            else:
                self.emit(changed, p, o, n, True, True)

    def _numbers(self, old: dict[str, Any], new: dict[str, Any], ptr: str) -> None:
        for upper, narrowed, extended in (
            (True, R.MAXIMUM_NARROWED, R.MAXIMUM_EXTENDED),
            (False, R.MINIMUM_NARROWED, R.MINIMUM_EXTENDED),
        ):
            ob, nb = _num_bound(old, upper), _num_bound(new, upper)
            if ob == nb:
                continue
            name = "maximum" if upper else "minimum"
            src = nb if nb is not None else ob
            key = f"exclusive{name.capitalize()}" if src is not None and src[2] == "x" else name
            p = f"{ptr}/{key}"
            ov = ob[0] if ob else None
            nv = nb[0] if nb else None
            shown_o = old.get(key, old.get(name)) if ob else None
            shown_n = new.get(key, new.get(name)) if nb else None
            if ob is None:
                self.narrow(narrowed, p, shown_o, shown_n)
            elif nb is None:
                self.widen(extended, p, shown_o, shown_n)
            else:
                # A looser bound: further out, or equal and now inclusive.
                assert ov is not None and nv is not None
                looser = (ob[1] and not nb[1]) if ov == nv else (nv > ov) == upper
                if looser:
                    self.widen(extended, p, shown_o, shown_n)
                else:
                    self.narrow(narrowed, p, shown_o, shown_n)
        om, nm = _fraction(old.get("multipleOf")), _fraction(new.get("multipleOf"))
        if om != nm:
            p = f"{ptr}/multipleOf"
            ov, nv = old.get("multipleOf"), new.get("multipleOf")
            if om is None:
                self.narrow(R.MULTIPLE_OF_NARROWED, p, ov, nv)
            elif nm is None or (nm != 0 and (om / nm).denominator == 1):
                self.widen(R.MULTIPLE_OF_EXTENDED, p, ov, nv)
            elif om != 0 and (nm / om).denominator == 1:
                self.narrow(R.MULTIPLE_OF_NARROWED, p, ov, nv)
            else:
                self.emit(R.MULTIPLE_OF_CHANGED, p, ov, nv, True, True)

    # -- objects -------------------------------------------------------------------------------------
    def _declares(self, s: dict[str, Any]) -> bool:
        """Lenient: producers of this object send its declared properties only."""
        return self.lenient and bool(s.get("properties"))

    def _slot_added(
        self, writer: Any, reader: Any, ptr: str, writer_declares: bool,
        closed: Rule, open_strict: Rule, open_lenient: Rule, covered: Rule,
    ) -> None:
        """A slot (property, pattern, tuple position) the old schema left to `writer`, its
        additional-content schema, now has the schema `reader`."""
        writer, _ = self.deref(writer, self.old_root)
        if writer is False:
            self.widen(closed, ptr, False, reader)
        elif _trivial(writer):
            if writer_declares:
                self.emit(open_lenient, ptr, None, reader, False, False)
            else:
                lets_pass = self.confluent and open_strict is R.PROPERTY_ADDED_TO_OPEN_MODEL
                self.emit(open_strict, ptr, None, reader, not _trivial(reader) and not lets_pass,
                          False)
        else:
            self.emit(covered, ptr, writer, reader, False, False)
            self.walk(writer, reader, ptr)

    def _slot_removed(
        self, old: Any, reader: Any, ptr: str, writer_declares: bool,
        closed: Rule, open_strict: Rule, open_lenient: Rule, covered: Rule,
    ) -> None:
        """A slot the old schema described with `old` now falls to the new additional-content
        schema `reader`."""
        reader, _ = self.deref(reader, self.new_root)
        if self.deref(old, self.old_root)[0] is False:  # it was forbidden; now `reader` decides
            self.walk(False, reader, ptr)
            return
        if reader is False:
            lets_pass = self.confluent and closed is R.PROPERTY_REMOVED_FROM_CLOSED_MODEL
            self.emit(closed, ptr, old, False, not lets_pass, False)
        elif _trivial(reader):
            if writer_declares:
                self.emit(open_lenient, ptr, old, None, False, False)
            else:
                self.emit(open_strict, ptr, old, None, False, not _trivial(old))
        else:
            self.emit(covered, ptr, old, reader, False, False)
            self.walk(old, reader, ptr)

    def _extra_for(self, s: dict[str, Any], name: str) -> Any:
        matches = [v for pat, v in (s.get("patternProperties") or {}).items() if _search(pat, name)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            return {"allOf": matches}
        return _additional(s)

    def _objects(self, old: dict[str, Any], new: dict[str, Any], ptr: str) -> None:
        op: dict[str, Any] = old.get("properties") or {}
        np_: dict[str, Any] = new.get("properties") or {}
        for name in sorted(set(op) | set(np_)):
            p = f"{ptr}/properties/{_esc(name)}"
            if name in op and name in np_:
                self.walk(op[name], np_[name], p)
            elif name in np_:
                self._slot_added(
                    self._extra_for(old, name), np_[name], p, self._declares(old),
                    R.PROPERTY_ADDED_TO_CLOSED_MODEL, R.PROPERTY_ADDED_TO_OPEN_MODEL,
                    R.PROPERTY_ADDED, R.PROPERTY_ADDED_COVERED)
            else:
                self._slot_removed(
                    op[name], self._extra_for(new, name), p, self._declares(new),
                    R.PROPERTY_REMOVED_FROM_CLOSED_MODEL, R.PROPERTY_REMOVED_FROM_OPEN_MODEL,
                    R.PROPERTY_REMOVED, R.PROPERTY_REMOVED_COVERED)
        oreq = {str(x) for x in old.get("required") or []}
        nreq = {str(x) for x in new.get("required") or []}
        for name in sorted(nreq - oreq):
            prop, _ = self.deref(np_.get(name, {}), self.new_root)
            has_default = isinstance(prop, dict) and "default" in prop
            rule = R.REQUIRED_ADDED_WITH_DEFAULT if has_default else R.REQUIRED_ADDED
            unseen = self.confluent and name not in np_  # Confluent reads declared names only
            self.emit(rule, f"{ptr}/required", None, name, not has_default and not unseen, False)
        for name in sorted(oreq - nreq):
            prop, _ = self.deref(op.get(name, {}), self.old_root)
            has_default = isinstance(prop, dict) and "default" in prop
            rule = R.REQUIRED_REMOVED_WITH_DEFAULT if has_default else R.REQUIRED_REMOVED
            self.emit(rule, f"{ptr}/required", name, None, False, not has_default)
        opp: dict[str, Any] = old.get("patternProperties") or {}
        npp: dict[str, Any] = new.get("patternProperties") or {}
        for pat in sorted(set(opp) | set(npp)):
            p = f"{ptr}/patternProperties/{_esc(pat)}"
            if pat in opp and pat in npp:
                self.walk(opp[pat], npp[pat], p)
            elif pat in npp:
                self._slot_added(
                    _additional(old), npp[pat], p, self._declares(old),
                    R.PATTERN_PROPERTY_ADDED, R.PATTERN_PROPERTY_ADDED,
                    R.PATTERN_PROPERTY_ADDED, R.PATTERN_PROPERTY_ADDED)
            else:
                self._slot_removed(
                    opp[pat], _additional(new), p, self._declares(new),
                    R.PATTERN_PROPERTY_REMOVED, R.PATTERN_PROPERTY_REMOVED,
                    R.PATTERN_PROPERTY_REMOVED, R.PATTERN_PROPERTY_REMOVED)
        key = "additionalProperties" if "additionalProperties" in new else (
            "unevaluatedProperties" if "unevaluatedProperties" in new else "additionalProperties")
        self._additional(
            _additional(old), _additional(new), f"{ptr}/{key}",
            self._declares(old), self._declares(new),
            R.ADDITIONAL_PROPERTIES_NARROWED, R.ADDITIONAL_PROPERTIES_EXTENDED)
        self._bound(old.get("maxProperties"), new.get("maxProperties"), f"{ptr}/maxProperties",
                    R.MAX_PROPERTIES_NARROWED, R.MAX_PROPERTIES_EXTENDED, upper=True)
        self._bound(old.get("minProperties", 0), new.get("minProperties", 0),
                    f"{ptr}/minProperties",
                    R.MIN_PROPERTIES_NARROWED, R.MIN_PROPERTIES_EXTENDED, upper=False)
        self._dependencies(old, new, ptr)

    def _dependencies(self, old: dict[str, Any], new: dict[str, Any], ptr: str) -> None:
        """dependentRequired / dependentSchemas (draft-07 `dependencies` holds either)."""
        oreq, osch = _dependencies(old)
        nreq, nsch = _dependencies(new)
        key = "dependencies" if "dependencies" in new or "dependencies" in old else None
        for name in sorted(set(oreq) | set(nreq)):
            p = f"{ptr}/{key or 'dependentRequired'}/{_esc(name)}"
            o, n = set(oreq.get(name, [])), set(nreq.get(name, []))
            if o == n:
                continue
            if o < n:
                self.narrow(R.DEPENDENCY_ADDED, p, oreq.get(name), nreq.get(name))
            elif n < o:
                self.widen(R.DEPENDENCY_REMOVED, p, oreq.get(name), nreq.get(name))
            else:
                self.emit(R.DEPENDENCY_CHANGED, p, oreq.get(name), nreq.get(name), True, True)
        for name in sorted(set(osch) | set(nsch)):
            p = f"{ptr}/{key or 'dependentSchemas'}/{_esc(name)}"
            if name in osch and name in nsch:
                self.walk(osch[name], nsch[name], p)
            elif name in nsch:
                if not _trivial(nsch[name]):
                    self.narrow(R.DEPENDENCY_ADDED, p, None, nsch[name])
            elif not _trivial(osch[name]):
                self.widen(R.DEPENDENCY_REMOVED, p, osch[name], None)

    def _additional(
        self, o: Any, n: Any, ptr: str, old_declares: bool, new_declares: bool,
        narrowed: Rule, extended: Rule,
    ) -> None:
        """The schema for undeclared content (object extras, items past a tuple) changed."""
        o, _ = self.deref(o, self.old_root)
        n, _ = self.deref(n, self.new_root)
        o_open, n_open = _trivial(o), _trivial(n)
        if (o is False and n is False) or (o_open and n_open):
            return
        if self.confluent and narrowed is R.ADDITIONAL_PROPERTIES_NARROWED and (
                o_open or n is False):
            self.emit(narrowed, ptr, True if o_open else o, n, False, False)
            return
        if o_open:  # -> closed or schema: old producers sent undeclared content unless lenient
            self.emit(narrowed, ptr, True, n, not old_declares, False)
        elif n_open:  # closed or schema -> open
            self.emit(extended, ptr, o, True, False, not new_declares)
        elif o is False:
            self.widen(extended, ptr, False, n)
        elif n is False:
            self.narrow(narrowed, ptr, o, False)
        else:
            self.walk(o, n, ptr)

    # -- arrays ----------------------------------------------------------------------------------------
    def _arrays(self, old: dict[str, Any], new: dict[str, Any], ptr: str) -> None:
        opre, orest, okey = _tuple(old)
        npre, nrest, nkey = _tuple(new)
        if not opre and not npre:
            if "items" in old or "items" in new:
                self.walk(orest, nrest, f"{ptr}/items")
            if self.confluent and ("additionalItems" in old or "additionalItems" in new):
                # Confluent compares additionalItems even where it has no effect (no tuple).
                self._additional(
                    old.get("additionalItems", True), new.get("additionalItems", True),
                    f"{ptr}/additionalItems", False, False,
                    R.ADDITIONAL_ITEMS_NARROWED, R.ADDITIONAL_ITEMS_EXTENDED)
        else:
            pre_key = "prefixItems" if "prefixItems" in new or "prefixItems" in old else "items"
            for i in range(max(len(opre), len(npre))):
                p = f"{ptr}/{pre_key}/{i}"
                if i < len(opre) and i < len(npre):
                    self.walk(opre[i], npre[i], p)
                elif i < len(npre):
                    self._slot_added(
                        orest, npre[i], p, self.lenient and bool(opre),
                        R.ITEM_ADDED_TO_CLOSED_TUPLE, R.ITEM_ADDED_TO_OPEN_TUPLE,
                        R.ITEM_ADDED_TO_OPEN_TUPLE, R.ITEM_ADDED_TO_OPEN_TUPLE)
                else:
                    self._slot_removed(
                        opre[i], nrest, p, self.lenient and bool(npre),
                        R.ITEM_REMOVED_FROM_CLOSED_TUPLE, R.ITEM_REMOVED_FROM_OPEN_TUPLE,
                        R.ITEM_REMOVED_FROM_OPEN_TUPLE, R.ITEM_REMOVED_FROM_OPEN_TUPLE)
            self._additional(
                orest, nrest, f"{ptr}/{nkey or okey or 'items'}",
                self.lenient and bool(opre), self.lenient and bool(npre),
                R.ADDITIONAL_ITEMS_NARROWED, R.ADDITIONAL_ITEMS_EXTENDED)
        self._bound(old.get("maxItems"), new.get("maxItems"), f"{ptr}/maxItems",
                    R.MAX_ITEMS_NARROWED, R.MAX_ITEMS_EXTENDED, upper=True)
        self._bound(old.get("minItems", 0), new.get("minItems", 0), f"{ptr}/minItems",
                    R.MIN_ITEMS_NARROWED, R.MIN_ITEMS_EXTENDED, upper=False)
        self._contains(old, new, ptr)
        ou, nu = bool(old.get("uniqueItems")), bool(new.get("uniqueItems"))
        if ou != nu:
            if nu:
                self.narrow(R.UNIQUE_ITEMS_ADDED, f"{ptr}/uniqueItems", ou, nu)
            else:
                self.widen(R.UNIQUE_ITEMS_REMOVED, f"{ptr}/uniqueItems", ou, nu)

    def _contains(self, old: dict[str, Any], new: dict[str, Any], ptr: str) -> None:
        oc, nc = "contains" in old, "contains" in new
        if not oc and not nc:
            return
        if oc and nc:
            self.walk(old["contains"], new["contains"], f"{ptr}/contains")
            self._bound(old.get("minContains", 1), new.get("minContains", 1),
                        f"{ptr}/minContains", R.CONTAINS_NARROWED, R.CONTAINS_EXTENDED,
                        upper=False)
            self._bound(old.get("maxContains"), new.get("maxContains"), f"{ptr}/maxContains",
                        R.CONTAINS_NARROWED, R.CONTAINS_EXTENDED, upper=True)
        elif nc:
            if not (new.get("minContains") == 0 and "maxContains" not in new):
                self.narrow(R.CONTAINS_NARROWED, f"{ptr}/contains", None, new["contains"])
        elif not (old.get("minContains") == 0 and "maxContains" not in old):
            self.widen(R.CONTAINS_EXTENDED, f"{ptr}/contains", old["contains"], None)

    # -- combinators --------------------------------------------------------------------------------------
    def _match(
        self, olds: list[Any], news: list[Any], ptr: str
    ) -> tuple[dict[int, int], dict[tuple[int, int], list[SchemaChange]]]:
        """Pair old and new branches, closest first; returns the pairing and every trial diff."""
        trials: dict[tuple[int, int], list[SchemaChange]] = {}
        for i, o in enumerate(olds):
            for j, n in enumerate(news):
                with self.trial() as got:
                    self.walk(o, n, f"{ptr}/{j}")
                trials[i, j] = got
        order = sorted(
            trials,
            key=lambda ij: (
                sum(c.breaks_backward + c.breaks_forward for c in trials[ij]),
                len(trials[ij]), abs(ij[0] - ij[1]),
            ),
        )
        pairs: dict[int, int] = {}
        used: set[int] = set()
        for i, j in order:
            if i not in pairs and j not in used:
                pairs[i] = j
                used.add(j)
        return pairs, trials

    def _sums(self, old: dict[str, Any], new: dict[str, Any], ptr: str) -> None:
        okind = next((k for k in _SUMS if k in old), None)
        nkind = next((k for k in _SUMS if k in new), None)
        orest = {k: v for k, v in old.items() if k not in _SUMS}
        nrest = {k: v for k, v in new.items() if k not in _SUMS}
        obr: list[Any]
        nbr: list[Any]
        if okind and nkind:
            obr, nbr = list(old[okind]), list(new[nkind])
        elif nkind:  # a plain old schema is a sum of one branch
            obr, nbr = ([orest], list(new[nkind])) if _trivial(nrest) else ([True], list(new[nkind]))
            if _trivial(nrest):
                orest = {k: v for k, v in orest.items() if k in _ANNOTATIONS}
        else:
            assert okind is not None
            obr, nbr = (list(old[okind]), [nrest]) if _trivial(orest) else (list(old[okind]), [True])
            if _trivial(orest):
                nrest = {k: v for k, v in nrest.items() if k in _ANNOTATIONS}
        kind = nkind or okind or "anyOf"
        p = f"{ptr}/{kind}"
        if okind and nkind and okind != nkind and (len(obr) > 1 or len(nbr) > 1):
            news_ = [self.deref(x, self.new_root)[0] for x in nbr]
            if okind == "oneOf":
                self.widen(R.COMBINED_TYPE_EXTENDED, p, okind, nkind)
            else:  # disjoint branches: oneOf reads as anyOf
                overlap = not _pairwise_disjoint(news_)
                self.emit(R.COMBINED_TYPE_CHANGED, p, okind, nkind, overlap, False)
        self.walk(orest, nrest, ptr)
        pairs, trials = self._match(obr, nbr, p)
        for i, j in sorted(pairs.items(), key=lambda ij: ij[1]):
            self.changes.extend(trials[i, j])
        matched_new = set(pairs.values())
        for i, o in enumerate(obr):
            if i in pairs:
                continue
            if any(not any(c.breaks_backward for c in trials[i, j]) for j in range(len(nbr))):
                continue  # another new branch reads it
            rule = R.NULLABLE_REMOVED if _is_null(self.deref(o, self.old_root)[0]) else (
                R.SUM_TYPE_NARROWED)
            self.narrow(rule, f"{ptr}/{okind or kind}/{i}", o, None)
        for j, n in enumerate(nbr):
            if j in matched_new:
                continue
            if not any(not any(c.breaks_forward for c in trials[i, j]) for i in range(len(obr))):
                rule = R.NULLABLE_ADDED if _is_null(self.deref(n, self.new_root)[0]) else (
                    R.SUM_TYPE_EXTENDED)
                self.widen(rule, f"{p}/{j}", None, n)
        if "oneOf" in (okind, nkind):
            changed = (
                okind != nkind or len(pairs) != len(obr) or len(matched_new) != len(nbr)
                or any(trials[i, j] for i, j in pairs.items())
            )
            olds = [self.deref(x, self.old_root)[0] for x in obr]
            news = [self.deref(x, self.new_root)[0] for x in nbr]
            if changed and not (_pairwise_disjoint(olds) and _pairwise_disjoint(news)):
                # Exactly-one semantics: with overlapping branches, any change can make some
                # value match two branches (now invalid) or only one (now valid).
                # anyOf -> oneOf only removes values (those matching two): forward holds.
                self.emit(R.ONE_OF_BRANCH_OVERLAPS, p, okind and old[okind], nkind and new[nkind],
                          True, not (okind == "anyOf" and nkind == "oneOf"))

    def _all_of(self, old: dict[str, Any], new: dict[str, Any], ptr: str) -> None:
        obr, nbr = list(old.get("allOf") or []), list(new.get("allOf") or [])
        if not obr and not nbr:
            return
        p = f"{ptr}/allOf"
        pairs, trials = self._match(obr, nbr, p)
        for i, j in sorted(pairs.items(), key=lambda ij: ij[1]):
            self.changes.extend(trials[i, j])
        matched_new = set(pairs.values())
        for i, o in enumerate(obr):
            if i not in pairs:
                self.widen(R.PRODUCT_TYPE_NARROWED, f"{p}/{i}", o, None)
        for j, n in enumerate(nbr):
            if j not in matched_new:
                self.narrow(R.PRODUCT_TYPE_EXTENDED, f"{p}/{j}", None, n)

    def _not(self, old: dict[str, Any], new: dict[str, Any], ptr: str) -> None:
        if "not" not in old and "not" not in new:
            return
        p = f"{ptr}/not"
        if "not" not in old:
            self.narrow(R.NOT_TYPE_NARROWED, p, None, new["not"])
        elif "not" not in new:
            self.widen(R.NOT_TYPE_EXTENDED, p, old["not"], None)
        else:
            # The excluded set shrinking widens the schema: diff the inner schemas, then swap.
            self.flip = not self.flip
            try:
                self.walk(old["not"], new["not"], p)
            finally:
                self.flip = not self.flip

    def _other_keywords(self, old: dict[str, Any], new: dict[str, Any], ptr: str) -> None:
        for key in sorted(set(old) | set(new)):
            if key in _ANNOTATIONS or key in _HANDLED or key.startswith("x-"):
                continue
            p = f"{ptr}/{_esc(key)}"
            if key not in old:
                self.narrow(R.KEYWORD_ADDED, p, None, new[key])
            elif key not in new:
                self.widen(R.KEYWORD_REMOVED, p, old[key], None)
            elif _canon(old[key]) != _canon(new[key]):
                self.emit(R.KEYWORD_CHANGED, p, old[key], new[key], True, True)

    def _default(self, old: dict[str, Any], new: dict[str, Any], ptr: str) -> None:
        if "default" in old and "default" in new and _canon(old["default"]) != _canon(new["default"]):
            self.emit(R.DEFAULT_CHANGED, f"{ptr}/default", old["default"], new["default"],
                      False, False)


def _num_bound(s: dict[str, Any], upper: bool) -> tuple[Fraction, bool, str] | None:
    """The effective bound: (value, exclusive, "x" if from the exclusive keyword else "")."""
    name = "maximum" if upper else "minimum"
    xname = "exclusiveMaximum" if upper else "exclusiveMinimum"
    found: list[tuple[Fraction, bool, str]] = []
    v = _fraction(s.get(name))
    if v is not None:
        found.append((v, False, ""))
    x = _fraction(s.get(xname))
    if x is not None:
        found.append((x, True, "x"))
    elif s.get(xname) is True and v is not None:  # draft-04 boolean form
        found = [(v, True, "")]
    if not found:
        return None
    # The tightest bound wins: the smallest maximum (exclusive first on ties), largest minimum.
    return (min if upper else max)(found, key=lambda b: (b[0], -b[1] if upper else b[1]))


def _dependencies(s: dict[str, Any]) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """(names each property requires, schema each property's presence applies)."""
    req: dict[str, list[Any]] = {}
    sch: dict[str, Any] = {}
    for key in ("dependencies", "dependentRequired", "dependentSchemas"):
        value = s.get(key)
        if not isinstance(value, dict):
            continue
        for name, dep in value.items():
            if isinstance(dep, list):
                req[str(name)] = dep
            else:
                sch[str(name)] = dep
    return req, sch


def _additional(s: dict[str, Any]) -> Any:
    if "additionalProperties" in s:
        return s["additionalProperties"]
    return s.get("unevaluatedProperties", True)


def _tuple(s: dict[str, Any]) -> tuple[list[Any], Any, str | None]:
    """(prefix schemas, schema of the items after them, the keyword holding the latter)."""
    if isinstance(s.get("prefixItems"), list):
        if "items" in s:
            return list(s["prefixItems"]), s["items"], "items"
        if "unevaluatedItems" in s:
            return list(s["prefixItems"]), s["unevaluatedItems"], "unevaluatedItems"
        return list(s["prefixItems"]), True, None
    if isinstance(s.get("items"), list):
        return list(s["items"]), s.get("additionalItems", True), "additionalItems"
    return [], s.get("items", True), "items" if "items" in s else None


def _is_null(s: Any) -> bool:
    return isinstance(s, dict) and (
        _types(s) == {"null"} or ("const" in s and s["const"] is None)
        or (s.get("enum") == [None])
    )


def _pairwise_disjoint(branches: list[Any]) -> bool:
    return all(
        _disjoint(a, b) for i, a in enumerate(branches) for b in branches[i + 1:]
    )


def _disjoint(a: Any, b: Any) -> bool:
    """True when no instance can match both schemas (a sound, partial test)."""
    if a is False or b is False:
        return True
    if not isinstance(a, dict) or not isinstance(b, dict):
        return False
    ta, tb = _types(a), _types(b)
    if ta is not None and tb is not None and not (_covers(ta, tb) or _covers(tb, ta)) and not any(
        x in tb or (x == "integer" and "number" in tb) or (x == "number" and "integer" in tb)
        for x in ta
    ):
        return True
    va, vb = _values(a), _values(b)
    if va is not None and vb is not None and not ({_canon(v) for v in va} & {_canon(v) for v in vb}):
        return True
    pa, pb = a.get("properties") or {}, b.get("properties") or {}
    ra, rb = set(a.get("required") or []), set(b.get("required") or [])
    for name in set(pa) & set(pb) & ra & rb:
        if isinstance(pa[name], dict) and isinstance(pb[name], dict) and _disjoint(pa[name], pb[name]):
            return True
    return False


def _merge_all_of(s: dict[str, Any], root: Any) -> dict[str, Any]:
    """Fold `allOf` branches into `s` when they do not conflict (the common composition pattern),
    so that ``allOf: [$ref Base, {...}]`` compares equal to the same schema written inline."""
    branches = s.get("allOf")
    if not isinstance(branches, list) or not branches:
        return s
    merged: dict[str, Any] = {k: v for k, v in s.items() if k != "allOf"}
    for branch in branches:
        b = branch
        hops = 0
        while isinstance(b, dict) and isinstance(b.get("$ref"), str) and hops < 64:
            hops += 1
            target = resolve_local_ref(root, b["$ref"])
            if not isinstance(target, dict):
                return s
            rest = {k: v for k, v in b.items() if k != "$ref"}
            b = {**target, **rest}
        if b is True:
            continue
        if not isinstance(b, dict) or "allOf" in b:
            return s
        for key, value in b.items():
            if key in _ANNOTATIONS:
                merged.setdefault(key, value)
            elif key not in merged:
                merged[key] = value
            elif key == "properties" and isinstance(value, dict):
                props = dict(merged[key])
                for name, sub in value.items():
                    if name in props and _canon(props[name]) != _canon(sub):
                        return s
                    props[name] = sub
                merged[key] = props
            elif key == "required" and isinstance(value, list):
                merged[key] = sorted({*merged[key], *value})
            elif _canon(merged[key]) != _canon(value):
                return s
    return merged


def _search(pattern: str, name: str) -> bool:
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return False
