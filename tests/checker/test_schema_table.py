"""The compatibility table: schema changes -> verdict per policy and direction, each citing its rule.

Each row: (old, new, rule name expected among the findings, lenient verdict, strict verdict, the
documented rule it follows). A verdict is (backward_ok, forward_ok). BACKWARD = a reader on the new
schema reads old data; FORWARD = a reader on the old schema reads new data.
"""

from __future__ import annotations

from typing import Any

import pytest

from tidings.checker import RULES, compare_schemas, is_compatible

OK, BROKEN = True, False
S: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}


def obj(props: dict[str, Any], required: tuple[str, ...] = (), **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props, **kw}
    if required:
        out["required"] = list(required)
    return out


def arr(**kw: Any) -> dict[str, Any]:
    return {"type": "array", **kw}


CLOSED = {"additionalProperties": False}

# (id, old, new, rule, lenient (back, fwd), strict (back, fwd), follows)
TABLE: list[tuple[str, Any, Any, str | None, tuple[bool, bool], tuple[bool, bool], str]] = [
    # --- properties and content models
    ("optional-added-open", obj({"a": S}), obj({"a": S, "b": S}), "property-added",
     (OK, OK), (BROKEN, OK), "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"),
    ("optional-added-closed", obj({"a": S}, **CLOSED), obj({"a": S, "b": S}, **CLOSED),
     "property-added-to-closed-model", (OK, BROKEN), (OK, BROKEN),
     "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"),
    ("required-added-open", obj({"a": S}), obj({"a": S, "b": S}, ("b",)), "required-added",
     (BROKEN, OK), (BROKEN, OK), "REQUIRED_ATTRIBUTE_ADDED"),
    ("required-default-added-closed", obj({"a": S}, **CLOSED),
     obj({"a": S, "b": {"type": "string", "default": "x"}}, ("b",), **CLOSED),
     "required-added-with-default", (OK, BROKEN), (OK, BROKEN),
     "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL"),
    ("required-default-added-open", obj({"a": S}),
     obj({"a": S, "b": {"type": "string", "default": "x"}}, ("b",)),
     "required-added-with-default", (OK, OK), (BROKEN, OK), "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED"),
    ("optional-removed-open", obj({"a": S, "b": S}), obj({"a": S}), "property-removed",
     (OK, OK), (OK, BROKEN), "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL"),
    ("optional-removed-closed", obj({"a": S, "b": S}, **CLOSED), obj({"a": S}, **CLOSED),
     "property-removed-from-closed-model", (BROKEN, OK), (BROKEN, OK),
     "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
    ("required-removed-open", obj({"a": S, "b": S}, ("a", "b")), obj({"a": S}, ("a",)),
     "required-removed", (OK, BROKEN), (OK, BROKEN), "REQUIRED_ATTRIBUTE_REMOVED"),
    ("made-required", obj({"a": S, "b": S}), obj({"a": S, "b": S}, ("b",)), "required-added",
     (BROKEN, OK), (BROKEN, OK), "REQUIRED_ATTRIBUTE_ADDED"),
    ("made-optional", obj({"a": S}, ("a",)), obj({"a": S}), "required-removed",
     (OK, BROKEN), (OK, BROKEN), "REQUIRED_ATTRIBUTE_REMOVED"),
    ("made-optional-old-default", obj({"a": {"type": "string", "default": "x"}}, ("a",)),
     obj({"a": {"type": "string", "default": "x"}}), "required-removed-with-default",
     (OK, OK), (OK, OK), "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED (reversed)"),
    ("added-covered-partial-same", obj({"a": S}, additionalProperties=S),
     obj({"a": S, "b": S}, additionalProperties=S), "property-added-covered-by-partial-model",
     (OK, OK), (OK, OK), "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"),
    ("added-covered-partial-other-type", obj({"a": S}, additionalProperties=S),
     obj({"a": S, "b": INT}, additionalProperties=S), "type-changed",
     (BROKEN, BROKEN), (BROKEN, BROKEN), "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"),
    ("added-covered-by-pattern", obj({"a": S}, patternProperties={"^x-": S}),
     obj({"a": S, "x-b": S}, patternProperties={"^x-": S}), "property-added-covered-by-partial-model",
     (OK, OK), (OK, OK), "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"),
    ("removed-covered-partial", obj({"a": S, "b": S}, additionalProperties=S),
     obj({"a": S}, additionalProperties=S), "property-removed-covered-by-partial-model",
     (OK, OK), (OK, OK), "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"),
    ("model-closed", obj({"a": S}), obj({"a": S}, **CLOSED), "additional-properties-narrowed",
     (OK, OK), (BROKEN, OK), "ADDITIONAL_PROPERTIES_REMOVED"),
    ("model-opened", obj({"a": S}, **CLOSED), obj({"a": S}), "additional-properties-extended",
     (OK, OK), (OK, BROKEN), "ADDITIONAL_PROPERTIES_ADDED"),
    ("closed-to-partial", obj({"a": S}, **CLOSED), obj({"a": S}, additionalProperties=S),
     "additional-properties-extended", (OK, BROKEN), (OK, BROKEN), "ADDITIONAL_PROPERTIES_EXTENDED"),
    ("partial-to-closed", obj({"a": S}, additionalProperties=S), obj({"a": S}, **CLOSED),
     "additional-properties-narrowed", (BROKEN, OK), (BROKEN, OK), "ADDITIONAL_PROPERTIES_NARROWED"),
    ("partial-narrowed", obj({"a": S}, additionalProperties=S),
     obj({"a": S}, additionalProperties={"type": "string", "maxLength": 5}), "max-length-narrowed",
     (BROKEN, OK), (BROKEN, OK), "ADDITIONAL_PROPERTIES_NARROWED"),
    ("free-form-map-typed", {"type": "object"}, {"type": "object", "additionalProperties": S},
     "additional-properties-narrowed", (BROKEN, OK), (BROKEN, OK),
     "ADDITIONAL_PROPERTIES_NARROWED (a map's keys are data, even when lenient)"),
    ("pattern-added-open", obj({"a": S}), obj({"a": S}, patternProperties={"^x-": S}),
     "pattern-property-added", (OK, OK), (BROKEN, OK), "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"),
    ("pattern-removed-closed", obj({"a": S}, patternProperties={"^x-": S}, **CLOSED),
     obj({"a": S}, **CLOSED), "pattern-property-removed", (BROKEN, OK), (BROKEN, OK),
     "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
    ("unevaluated-closed", obj({"a": S}), obj({"a": S}, unevaluatedProperties=False),
     "additional-properties-narrowed", (OK, OK), (BROKEN, OK), "ADDITIONAL_PROPERTIES_REMOVED"),
    ("nested-removed-closed", obj({"o": obj({"a": S, "b": S}, **CLOSED)}),
     obj({"o": obj({"a": S}, **CLOSED)}), "property-removed-from-closed-model",
     (BROKEN, OK), (BROKEN, OK), "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
    ("min-properties-added", obj({"a": S}), obj({"a": S}, minProperties=1),
     "min-properties-narrowed", (BROKEN, OK), (BROKEN, OK), "MIN_PROPERTIES_ADDED"),
    ("max-properties-increased", obj({"a": S}, maxProperties=2), obj({"a": S}, maxProperties=3),
     "max-properties-extended", (OK, BROKEN), (OK, BROKEN), "MAX_PROPERTIES_INCREASED"),
    # --- types and nullability
    ("integer-to-number", INT, {"type": "number"}, "type-extended", (OK, BROKEN), (OK, BROKEN),
     "TYPE_EXTENDED"),
    ("number-to-integer", {"type": "number"}, INT, "type-narrowed", (BROKEN, OK), (BROKEN, OK),
     "TYPE_NARROWED"),
    ("string-to-integer", S, INT, "type-changed", (BROKEN, BROKEN), (BROKEN, BROKEN), "TYPE_CHANGED"),
    ("type-union-widened", S, {"type": ["string", "integer"]}, "type-extended",
     (OK, BROKEN), (OK, BROKEN), "TYPE_EXTENDED"),
    ("nullable-added", S, {"type": ["string", "null"]}, "nullable-added", (OK, BROKEN),
     (OK, BROKEN), "TYPE_EXTENDED"),
    ("nullable-removed", {"type": ["string", "null"]}, S, "nullable-removed", (BROKEN, OK),
     (BROKEN, OK), "TYPE_NARROWED"),
    ("nullable-added-any-of", S, {"anyOf": [S, {"type": "null"}]}, "nullable-added",
     (OK, BROKEN), (OK, BROKEN), "SUM_TYPE_EXTENDED"),
    ("nullable-removed-any-of", {"anyOf": [S, {"type": "null"}]}, S, "nullable-removed",
     (BROKEN, OK), (BROKEN, OK), "SUM_TYPE_NARROWED"),
    ("type-added", {}, S, "type-narrowed", (BROKEN, OK), (BROKEN, OK), "TYPE_NARROWED"),
    # --- enum and const
    ("enum-extended", {"enum": ["a", "b"]}, {"enum": ["a", "b", "c"]}, "enum-extended",
     (OK, BROKEN), (OK, BROKEN), "ENUM_ARRAY_EXTENDED"),
    ("enum-narrowed", {"enum": ["a", "b"]}, {"enum": ["a"]}, "enum-narrowed", (BROKEN, OK),
     (BROKEN, OK), "ENUM_ARRAY_NARROWED"),
    ("enum-changed", {"enum": ["a", "b"]}, {"enum": ["a", "c"]}, "enum-changed",
     (BROKEN, BROKEN), (BROKEN, BROKEN), "ENUM_ARRAY_CHANGED"),
    ("enum-added", S, {"type": "string", "enum": ["a"]}, "enum-narrowed", (BROKEN, OK),
     (BROKEN, OK), "ENUM_ARRAY_NARROWED"),
    ("enum-dropped", {"type": "string", "enum": ["a"]}, S, "enum-extended", (OK, BROKEN),
     (OK, BROKEN), "ENUM_ARRAY_EXTENDED"),
    ("const-added", S, {"type": "string", "const": "a"}, "const-added", (BROKEN, OK),
     (BROKEN, OK), "SCHEMA_ADDED"),
    ("const-changed", {"const": "a"}, {"const": "b"}, "const-changed", (BROKEN, BROKEN),
     (BROKEN, BROKEN), "ENUM_ARRAY_CHANGED"),
    ("const-to-enum", {"const": "a"}, {"enum": ["a", "b"]}, "const-removed", (OK, BROKEN),
     (OK, BROKEN), "ENUM_ARRAY_EXTENDED"),
    # --- strings
    ("max-length-added", S, {"type": "string", "maxLength": 5}, "max-length-narrowed",
     (BROKEN, OK), (BROKEN, OK), "MAX_LENGTH_ADDED"),
    ("max-length-increased", {"type": "string", "maxLength": 5},
     {"type": "string", "maxLength": 9}, "max-length-extended", (OK, BROKEN), (OK, BROKEN),
     "MAX_LENGTH_INCREASED"),
    ("min-length-increased", {"type": "string", "minLength": 1},
     {"type": "string", "minLength": 2}, "min-length-narrowed", (BROKEN, OK), (BROKEN, OK),
     "MIN_LENGTH_INCREASED"),
    ("min-length-removed", {"type": "string", "minLength": 1}, S, "min-length-extended",
     (OK, BROKEN), (OK, BROKEN), "MIN_LENGTH_REMOVED"),
    ("pattern-added", S, {"type": "string", "pattern": "^[A-Z]+$"}, "pattern-added",
     (BROKEN, OK), (BROKEN, OK), "PATTERN_ADDED"),
    ("pattern-changed", {"type": "string", "pattern": "^a"}, {"type": "string", "pattern": "^b"},
     "pattern-changed", (BROKEN, BROKEN), (BROKEN, BROKEN), "PATTERN_CHANGED"),
    ("pattern-removed", {"type": "string", "pattern": "^a"}, S, "pattern-removed", (OK, BROKEN),
     (OK, BROKEN), "PATTERN_REMOVED"),
    ("format-added", S, {"type": "string", "format": "uuid"}, "format-added", (BROKEN, OK),
     (BROKEN, OK), "PATTERN_ADDED (format)"),
    # --- numbers
    ("maximum-decreased", {"type": "number", "maximum": 10}, {"type": "number", "maximum": 5},
     "maximum-narrowed", (BROKEN, OK), (BROKEN, OK), "MAXIMUM_DECREASED"),
    ("maximum-added", {"type": "number"}, {"type": "number", "maximum": 5}, "maximum-narrowed",
     (BROKEN, OK), (BROKEN, OK), "MAXIMUM_ADDED"),
    ("minimum-decreased", {"type": "number", "minimum": 5}, {"type": "number", "minimum": 0},
     "minimum-extended", (OK, BROKEN), (OK, BROKEN), "MINIMUM_DECREASED"),
    ("maximum-made-exclusive", {"type": "number", "maximum": 10},
     {"type": "number", "exclusiveMaximum": 10}, "maximum-narrowed", (BROKEN, OK), (BROKEN, OK),
     "EXCLUSIVE_MAXIMUM_ADDED"),
    ("exclusive-maximum-raised", {"type": "number", "maximum": 10},
     {"type": "number", "exclusiveMaximum": 11}, "maximum-extended", (OK, BROKEN), (OK, BROKEN),
     "MAXIMUM_INCREASED"),
    ("minimum-made-exclusive", {"type": "number", "minimum": 0},
     {"type": "number", "exclusiveMinimum": 0}, "minimum-narrowed", (BROKEN, OK), (BROKEN, OK),
     "EXCLUSIVE_MINIMUM_ADDED"),
    ("multiple-of-expanded", {"type": "integer", "multipleOf": 2},
     {"type": "integer", "multipleOf": 4}, "multiple-of-narrowed", (BROKEN, OK), (BROKEN, OK),
     "MULTIPLE_OF_EXPANDED"),
    ("multiple-of-reduced", {"type": "integer", "multipleOf": 4},
     {"type": "integer", "multipleOf": 2}, "multiple-of-extended", (OK, BROKEN), (OK, BROKEN),
     "MULTIPLE_OF_REDUCED"),
    ("multiple-of-changed", {"type": "integer", "multipleOf": 2},
     {"type": "integer", "multipleOf": 3}, "multiple-of-changed", (BROKEN, BROKEN),
     (BROKEN, BROKEN), "MULTIPLE_OF_CHANGED"),
    ("multiple-of-removed", {"type": "number", "multipleOf": 0.5}, {"type": "number"},
     "multiple-of-extended", (OK, BROKEN), (OK, BROKEN), "MULTIPLE_OF_REMOVED"),
    # --- arrays
    ("items-widened", arr(items=INT), arr(items={"type": "number"}), "type-extended",
     (OK, BROKEN), (OK, BROKEN), "TYPE_EXTENDED (items)"),
    ("items-changed", arr(items=S), arr(items=INT), "type-changed", (BROKEN, BROKEN),
     (BROKEN, BROKEN), "TYPE_CHANGED (items)"),
    ("max-items-added", arr(items=S), arr(items=S, maxItems=3), "max-items-narrowed",
     (BROKEN, OK), (BROKEN, OK), "MAX_ITEMS_ADDED"),
    ("min-items-decreased", arr(items=S, minItems=2), arr(items=S, minItems=1),
     "min-items-extended", (OK, BROKEN), (OK, BROKEN), "MIN_ITEMS_DECREASED"),
    ("unique-items-added", arr(items=S), arr(items=S, uniqueItems=True), "unique-items-added",
     (BROKEN, OK), (BROKEN, OK), "UNIQUE_ITEMS_ADDED"),
    ("unique-items-removed", arr(items=S, uniqueItems=True), arr(items=S),
     "unique-items-removed", (OK, BROKEN), (OK, BROKEN), "UNIQUE_ITEMS_REMOVED"),
    ("tuple-closed-item-added", arr(prefixItems=[S], items=False),
     arr(prefixItems=[S, INT], items=False), "item-added-to-closed-tuple", (OK, BROKEN),
     (OK, BROKEN), "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL"),
    ("tuple-open-item-added", arr(prefixItems=[S]), arr(prefixItems=[S, INT]),
     "item-added-to-open-tuple", (OK, OK), (BROKEN, OK), "ITEM_ADDED_TO_OPEN_CONTENT_MODEL"),
    ("tuple-closed-item-removed", arr(prefixItems=[S, INT], items=False),
     arr(prefixItems=[S], items=False), "item-removed-from-closed-tuple", (BROKEN, OK),
     (BROKEN, OK), "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
    ("tuple-open-item-removed", arr(prefixItems=[S, INT]), arr(prefixItems=[S]),
     "item-removed-from-open-tuple", (OK, OK), (OK, BROKEN), "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL"),
    ("draft7-tuple-item-added", arr(items=[S], additionalItems=False),
     arr(items=[S, INT], additionalItems=False), "item-added-to-closed-tuple", (OK, BROKEN),
     (OK, BROKEN), "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL"),
    ("tuple-closed", arr(prefixItems=[S]), arr(prefixItems=[S], items=False),
     "additional-items-narrowed", (OK, OK), (BROKEN, OK), "ADDITIONAL_ITEMS_REMOVED"),
    # --- combinators
    ("any-of-branch-added", {"anyOf": [S, INT]}, {"anyOf": [S, INT, {"type": "boolean"}]},
     "branch-added", (OK, BROKEN), (OK, BROKEN), "SUM_TYPE_EXTENDED"),
    ("any-of-branch-removed", {"anyOf": [S, INT]}, {"anyOf": [S]}, "branch-removed",
     (BROKEN, OK), (BROKEN, OK), "SUM_TYPE_NARROWED"),
    ("one-of-disjoint-branch-added", {"oneOf": [S, INT]}, {"oneOf": [S, INT, {"type": "boolean"}]},
     "branch-added", (OK, BROKEN), (OK, BROKEN), "SUM_TYPE_EXTENDED"),
    ("one-of-overlapping-branch-added", {"oneOf": [S]},
     {"oneOf": [S, {"type": "string", "maxLength": 3}]}, "one-of-branch-overlaps",
     (BROKEN, BROKEN), (BROKEN, BROKEN), "SUM_TYPE_EXTENDED + oneOf exclusivity"),
    ("one-of-to-any-of", {"oneOf": [S, INT]}, {"anyOf": [S, INT]}, "combinator-extended",
     (OK, BROKEN), (OK, BROKEN), "COMBINED_TYPE_EXTENDED"),
    ("any-of-to-one-of", {"anyOf": [S, {"type": "string", "maxLength": 2}]},
     {"oneOf": [S, {"type": "string", "maxLength": 2}]}, "combinator-changed",
     (BROKEN, OK), (BROKEN, OK), "COMBINED_TYPE_CHANGED: \"ab\" matches both branches"),
    ("any-of-to-one-of-disjoint", {"anyOf": [S, INT]}, {"oneOf": [S, INT]}, "combinator-changed",
     (OK, OK), (OK, OK), "disjoint branches: no value matches two, oneOf reads as anyOf"),
    ("any-of-branch-narrowed", {"anyOf": [S, INT]},
     {"anyOf": [{"type": "string", "maxLength": 2}, INT]}, "max-length-narrowed", (BROKEN, OK),
     (BROKEN, OK), "COMBINED_TYPE_SUBSCHEMAS_CHANGED"),
    ("all-of-branch-added", {"allOf": [{"minLength": 1}]},
     {"allOf": [{"minLength": 1}, {"minLength": 3}]}, "all-of-branch-added", (BROKEN, OK),
     (BROKEN, OK), "PRODUCT_TYPE_EXTENDED"),
    ("all-of-branch-removed", {"allOf": [{"minLength": 1}, {"minLength": 3}]},
     {"allOf": [{"minLength": 1}]}, "all-of-branch-removed", (OK, BROKEN), (OK, BROKEN),
     "PRODUCT_TYPE_NARROWED"),
    ("not-added", S, {"type": "string", "not": {"const": ""}}, "not-added", (BROKEN, OK),
     (BROKEN, OK), "NOT_TYPE_EXTENDED"),
    ("not-removed", {"type": "string", "not": {"const": ""}}, S, "not-removed", (OK, BROKEN),
     (OK, BROKEN), "NOT_TYPE_NARROWED"),
    ("not-shrunk", {"not": {"type": ["string", "integer"]}}, {"not": S}, "type-narrowed",
     (OK, BROKEN), (OK, BROKEN), "NOT_TYPE_NARROWED"),
    # --- whole schemas, annotations, unknown keywords
    ("true-to-false", True, False, "schema-closed", (BROKEN, OK), (BROKEN, OK), "SCHEMA_ADDED"),
    ("schema-to-any", S, {}, "schema-opened", (OK, BROKEN), (OK, BROKEN), "SCHEMA_REMOVED"),
    ("description-changed", {"type": "string", "description": "a"},
     {"type": "string", "description": "b"}, None, (OK, OK), (OK, OK), "DESCRIPTION_CHANGED"),
    ("default-changed", {"type": "string", "default": "a"}, {"type": "string", "default": "b"},
     "default-changed", (OK, OK), (OK, OK), "DEFAULT_CHANGED"),
    ("if-then-added", obj({"a": S}),
     obj({"a": S}, **{"if": {"required": ["a"]}, "then": {"minProperties": 2}}),
     "keyword-added", (BROKEN, OK), (BROKEN, OK), "unknown changes are incompatible"),
    ("dependent-required-changed", obj({"a": S}, dependentRequired={"a": ["b"]}),
     obj({"a": S}, dependentRequired={"a": ["c"]}), "dependency-changed", (BROKEN, BROKEN),
     (BROKEN, BROKEN), "DEPENDENCY_ARRAY_CHANGED"),
]

# --- $ref: resolved before comparing
MONEY = {"type": "object", "properties": {"amount": {"type": "number"}, "currency": S},
         "required": ["amount", "currency"]}
TABLE += [
    ("inline-to-ref", obj({"price": MONEY}),
     {**obj({"price": {"$ref": "#/$defs/Money"}}), "$defs": {"Money": MONEY}}, None,
     (OK, OK), (OK, OK), "references are resolved before comparing"),
    ("change-inside-defs",
     {**obj({"price": {"$ref": "#/$defs/Money"}}), "$defs": {"Money": MONEY}},
     {**obj({"price": {"$ref": "#/$defs/Money"}}),
      "$defs": {"Money": {**MONEY, "properties": {**MONEY["properties"],
                                                   "currency": {"type": "string", "maxLength": 3}}}}},
     "max-length-narrowed", (BROKEN, OK), (BROKEN, OK), "MAX_LENGTH_ADDED through $ref"),
    ("all-of-ref-vs-inline",
     {**obj({"a": S}), "$defs": {}},
     {"allOf": [{"$ref": "#/$defs/Base"}], "$defs": {"Base": obj({"a": S})}}, None,
     (OK, OK), (OK, OK), "allOf composition folded before comparing"),
]


@pytest.mark.parametrize(
    ("old", "new", "rule", "lenient", "strict"),
    [pytest.param(o, n, r, le, st, id=i) for i, o, n, r, le, st, _ in TABLE],
)
def test_table(
    old: Any, new: Any, rule: str | None, lenient: tuple[bool, bool], strict: tuple[bool, bool]
) -> None:
    for policy, expected in (("lenient", lenient), ("strict", strict)):
        got = (
            is_compatible(old, new, "backward", policy=policy),  # type: ignore[arg-type]
            is_compatible(old, new, "forward", policy=policy),  # type: ignore[arg-type]
        )
        changes = compare_schemas(old, new, policy=policy)  # type: ignore[arg-type]
        assert got == expected, (policy, [(c.rule.name, c.pointer, c.directions) for c in changes])
    names = {c.rule.name for c in compare_schemas(old, new)} | {
        c.rule.name for c in compare_schemas(old, new, policy="strict")
    }
    if rule is None:
        assert all(c.compatible for c in compare_schemas(old, new))
    else:
        assert rule in names, names


def test_table_is_large_and_cites_rules() -> None:
    assert len(TABLE) >= 60
    assert all(follows for *_, follows in TABLE)
    named = {r for _, _, _, r, _, _, _ in TABLE if r}
    assert named <= {r.name for r in RULES.values()}


def test_recursive_ref_terminates() -> None:
    tree = {"type": "object", "properties": {"children": {"type": "array",
            "items": {"$ref": "#/$defs/Node"}}, "name": S}}
    old = {"$ref": "#/$defs/Node", "$defs": {"Node": tree}}
    new_tree = {**tree, "properties": {**tree["properties"], "name": INT}}
    new = {"$ref": "#/$defs/Node", "$defs": {"Node": new_tree}}
    changes = compare_schemas(old, new)
    assert [(c.rule.name, c.pointer) for c in changes] == [("type-changed", "/properties/name/type")]


def test_finding_fields() -> None:
    (change,) = compare_schemas(obj({"a": S, "b": S}, **CLOSED), obj({"a": S}, **CLOSED))
    assert change.rule.id == "TID-C011"
    assert change.pointer == "/properties/b"
    assert change.old == S and change.new is False
    assert change.directions == ("backward",)


def test_unknown_policy() -> None:
    with pytest.raises(ValueError, match="unknown policy"):
        compare_schemas({}, {}, policy="loose")  # type: ignore[arg-type]
