"""The static 2020-12 meta-schema gives exactly the verdicts and messages of the official one."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tidings.catalog._keywords import KNOWN
from tidings.catalog._metaschema import meta_validator, static_meta_schema

OFFICIAL = Draft202012Validator(
    Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
)
KEYS = sorted(KNOWN | {"definitions", "dependencies", "$recursiveRef", "$recursiveAnchor",
                       "$dynamicRef", "$dynamicAnchor", "$vocabulary", "a", "x-y"})
values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-2, 3), st.floats(allow_nan=False, width=16),
        st.sampled_from(["string", "object", "strin", "(", "#/a", "a", "http://x/y#z", ""]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=25,
)


def verdicts(validator: Draft202012Validator, schema: Any) -> set[tuple[Any, ...]]:
    """The distinct errors (the official meta-schema repeats a type error once per vocabulary,
    and tidings reports each distinct message once)."""
    return {
        (tuple(map(str, e.absolute_path)), e.message, e.validator)
        for e in validator.iter_errors(schema)
    }


def test_static_meta_schema_has_no_dynamic_refs() -> None:
    text = repr(static_meta_schema())
    assert "$dynamicRef': '#meta'" not in text
    Draft202012Validator.check_schema(static_meta_schema())


@settings(max_examples=500, deadline=None)
@given(schema=st.dictionaries(st.sampled_from(KEYS), values, max_size=6))
def test_same_errors_as_the_official_meta_schema(schema: dict[str, Any]) -> None:
    assert verdicts(meta_validator(), schema) == verdicts(OFFICIAL, schema)


def test_known_examples() -> None:
    bad = {"type": "strin", "properties": {"a": {"minimum": "5"}}, "required": "x",
           "pattern": "([", "items": {"$ref": 5}}
    assert verdicts(meta_validator(), bad) == verdicts(OFFICIAL, bad)
    assert len(verdicts(OFFICIAL, bad)) == 5
