"""Authored cases, one per category where tidings and Confluent Schema Registry's JSON Schema diff
disagree (or where tidings used to be wrong), each verdict justified by JSON Schema semantics:
either a witness (found by `find_witness`, then re-checked here with a second, independent
validator, the `jsonschema` package) or, where no message can separate the schemas, a proof note
(and `find_witness` must find nothing: if it ever does, the note is wrong and the test fails).

Verdicts are BACKWARD (readers on the new schema, messages written with the old). `lenient` is
tidings' default, `confluent` must reproduce Confluent's LENIENT verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest

from tidings.checker import compare_schemas, find_witness, is_compatible
from tidings.checker._witness import producer_view

D7 = "http://json-schema.org/draft-07/schema#"
D2020 = "https://json-schema.org/draft/2020-12/schema"
S = {"type": "string"}
N = {"type": "number"}


@dataclass(frozen=True)
class Case:
    id: str
    old: Any
    new: Any
    lenient: bool  # tidings lenient BACKWARD verdict: compatible?
    confluent: bool  # Confluent's LENIENT verdict: compatible?
    proof: str  # "witness" when one must be found, else the argument that none exists
    strict: bool | None = None  # tidings strict verdict, where it differs from lenient


def d7(s: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": D7, **s}


def d20(s: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": D2020, **s}


def prop1(s: Any) -> dict[str, Any]:
    return d7({"type": "object", "properties": {"prop1": s}})


CASES = [
    # -- oneOf / anyOf / allOf reshuffles -----------------------------------------------------
    Case("allOf-to-anyOf-fewer", prop1({"allOf": [N, S]}), prop1({"anyOf": [S]}), True, True,
         "no value is both a number and a string: the old schema accepts no prop1 at all, so "
         "every old message lacks prop1, which the new schema accepts too"),
    Case("allOf-to-oneOf-fewer", prop1({"allOf": [N, S]}), prop1({"oneOf": [S]}), True, True,
         "as allOf-to-anyOf-fewer: the old prop1 is unsatisfiable"),
    Case("allOf-branch-to-plain", prop1({"allOf": [S, {"maxLength": 3}]}), prop1(S), True, True,
         "every old prop1 is a string (first branch), which is all the new schema asks"),
    Case("anyOf-to-oneOf-more-disjoint", prop1({"anyOf": [S]}), prop1({"oneOf": [N, S]}),
         True, True,
         "no value is both a number and a string, so the oneOf accepts exactly the union, "
         "and every old string is in it"),
    Case("anyOf-to-oneOf-overlapping", prop1({"anyOf": [S, {"type": "string", "maxLength": 2}]}),
         prop1({"oneOf": [S, {"type": "string", "maxLength": 2}]}), False, False, "witness"),
    Case("oneOf-to-anyOf-wider", prop1({"oneOf": [N, S]}),
         prop1({"anyOf": [N, S, {"type": "null"}]}), True, True,
         "anyOf of a superset of branches accepts every value that matched one old branch"),
    Case("anyOf-branch-removed", prop1({"anyOf": [N, S]}), prop1({"anyOf": [S]}), False, False,
         "witness"),
    # -- dependencies / dependentSchemas --------------------------------------------------------
    Case("dependentSchemas-removed",
         d20({"dependentSchemas": {"foo": {"required": ["bar"]}, "baz": {"required": ["x"]}}}),
         d20({"dependentSchemas": {"foo": {"required": ["bar"]}}}), True, True,
         "removing a conjunct only widens: every old message satisfies the remaining entry"),
    Case("dependentSchemas-added", d20({"type": "object"}),
         d20({"type": "object", "dependentSchemas": {"bar": {"required": ["baz"]}}}),
         False, False, "witness"),
    Case("dependencies-renamed", d7({"dependencies": {"foo": S}}),
         d7({"dependencies": {"bar": S}}), False, False, "witness"),
    Case("dependentRequired-narrowed",
         d20({"dependentRequired": {"a": ["b", "c"]}}), d20({"dependentRequired": {"a": ["b"]}}),
         True, True, "the new entry demands a subset of what the old one demanded"),
    # -- contains --------------------------------------------------------------------------------
    Case("minContains-decreased", d20({"type": "array", "contains": N, "minContains": 2}),
         d20({"type": "array", "contains": N, "minContains": 1}), True, True,
         "an array holding at least 2 numbers holds at least 1"),
    Case("minContains-increased", d20({"type": "array", "contains": N, "minContains": 1}),
         d20({"type": "array", "contains": N, "minContains": 2}), False, False, "witness"),
    Case("maxContains-added", d20({"type": "array", "contains": N}),
         d20({"type": "array", "contains": N, "maxContains": 1}), False, False, "witness"),
    # -- closed content models ---------------------------------------------------------------------
    Case("false-property-removed-closed",
         d7({"properties": {"foo": False, "bar": S}, "additionalProperties": False}),
         d7({"properties": {"bar": S}, "additionalProperties": False}), True, True,
         "before, foo was forbidden by its `false`; after, by additionalProperties: false; "
         "the schemas accept the same objects"),
    Case("false-item-removed-closed",
         d20({"prefixItems": [N, False], "items": False}),
         d20({"prefixItems": [N], "items": False}), True, True,
         "before, position 1 was forbidden by `false`; after, by items: false"),
    Case("property-removed-from-closed", d7({"properties": {"foo": S, "bar": S},
                                             "additionalProperties": False}),
         d7({"properties": {"bar": S}, "additionalProperties": False}), False, True, "witness"),
    Case("map-closed", d7({"type": "object"}),
         d7({"type": "object", "additionalProperties": False}), False, True, "witness"),
    Case("map-values-narrowed", d7({"type": "object", "additionalProperties": True}),
         d7({"type": "object", "additionalProperties": N}), False, True, "witness"),
    # -- draft 7 additionalItems without tuple items -----------------------------------------------
    Case("additionalItems-without-tuple-closed", d7({"additionalItems": True}),
         d7({"additionalItems": False}), True, False,
         "draft-07: additionalItems has no effect unless items is an array of schemas; both "
         "schemas accept every instance"),
    Case("additionalItems-without-tuple-schema", d7({"items": N, "additionalItems": N}),
         d7({"items": N, "additionalItems": S}), True, False,
         "draft-07: with items a single schema, additionalItems is ignored; both schemas accept "
         "exactly the arrays of numbers (and every non-array)"),
    # -- required names Confluent does not read ----------------------------------------------------
    Case("required-undeclared-name", d7({"properties": {"foo": S}, "required": ["foo"]}),
         d7({"properties": {"foo": S}, "required": ["bar"]}), False, True, "witness"),
    # -- open content models: lenient versus strict ------------------------------------------------
    Case("optional-property-added-open", d7({"type": "object", "properties": {"foo": S}}),
         d7({"type": "object", "properties": {"foo": S, "bar": N}}), True, True,
         "lenient producers send declared fields only: no old message holds bar (strict: the "
         "witness {\"bar\": {}} exists, see the strict verdict)", strict=False),
]


def _instance_ok(schema: Any, instance: Any) -> bool:
    cls = jsonschema.validators.validator_for(schema)
    return bool(cls(schema, format_checker=cls.FORMAT_CHECKER).is_valid(instance))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_verdicts(case: Case) -> None:
    assert is_compatible(case.old, case.new, "backward") is case.lenient
    assert is_compatible(case.old, case.new, "backward", policy="confluent") is case.confluent
    strict = case.lenient if case.strict is None else case.strict
    assert is_compatible(case.old, case.new, "backward", policy="strict") is strict


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_verdict_is_justified(case: Case) -> None:
    changes = compare_schemas(case.old, case.new)
    pointer = next((c.pointer for c in changes if c.breaks_backward), None)
    out = find_witness(case.old, case.new, pointer=pointer, declared_only=True, budget=0.2)
    if case.proof == "witness":
        assert out.witness is not None, out.reason
        instance = out.witness.instance
        # A second validator agrees: the old schema (as lenient producers use it) accepts the
        # witness, the new one refuses it.
        assert _instance_ok(case.old, instance)
        assert _instance_ok(producer_view(case.old), instance)
        assert not _instance_ok(case.new, instance)
        assert not case.lenient
    else:
        assert out.witness is None, (case.proof, out.witness)
        assert case.lenient, "a breaking verdict needs a witness or is only possibly breaking"


def test_strict_open_model_witness() -> None:
    case = next(c for c in CASES if c.id == "optional-property-added-open")
    out = find_witness(case.old, case.new, pointer="/properties/bar", declared_only=False)
    assert out.witness is not None
    assert _instance_ok(case.old, out.witness.instance)
    assert not _instance_ok(case.new, out.witness.instance)


def test_possibly_breaking_when_no_witness_exists() -> None:
    # Both schemas refuse every object holding foo (it would have to be a string and a number at
    # once): they accept the same messages, so no witness exists; tidings reports the change,
    # but only as possibly breaking.
    old, new = d7({"dependencies": {"foo": S}}), d7({"dependencies": {"foo": N}})
    changes = compare_schemas(old, new)
    assert any(c.breaks_backward for c in changes)
    out = find_witness(old, new, pointer=changes[0].pointer, budget=0.1)
    assert out.witness is None and out.reason and "no message found" in out.reason


def test_witness_respects_lenient_producers() -> None:
    # A closed reader refuses undeclared fields; lenient producers never send them.
    old = {"type": "object", "properties": {"a": S}}
    new = {"type": "object", "properties": {"a": S}, "additionalProperties": False}
    assert find_witness(old, new, pointer="/additionalProperties", declared_only=True,
                        budget=0.1).witness is None
    strict = find_witness(old, new, pointer="/additionalProperties", declared_only=False)
    assert strict.witness is not None and set(strict.witness.instance) - {"a"}


def test_directions_in_any_case() -> None:
    old, new = {"type": "string"}, {"type": "string", "maxLength": 2}
    assert is_compatible(old, new, "BACKWARD") is is_compatible(old, new, "backward") is False
    assert is_compatible(old, new, "Forward") is True
    assert is_compatible(old, new, "FULL") is False
    with pytest.raises(ValueError, match="unknown direction"):
        is_compatible(old, new, "sideways")
