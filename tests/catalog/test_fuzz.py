"""Whatever the YAML, loading either gives a Catalog or raises CatalogError: never another
exception (which would reach the user as a traceback)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.catalog import Catalog, CatalogError, load_catalog_texts

VALID = Path(__file__).parent / "fixtures" / "valid"
FILES = {p.relative_to(VALID).as_posix(): p.read_text("utf-8") for p in VALID.rglob("*.yaml")}

WORDS = [
    "catalog", "contexts", "events", "commands", "$defs", "defaults", "retry", "compatibility",
    "payload", "producers", "consumers", "handler", "type", "properties", "items", "$ref",
    "required", "enum", "core", "email", "a", "Money", "#/$defs/Money", "common.yaml#/$defs/X",
    "max_attempts", "initial_delay", "1s", "object", "string", "version", "description",
    "class", "a-b", "FULL", "allOf", "additionalProperties", "$id", "x-y",
]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, width=16),
    st.sampled_from(WORDS), st.text(max_size=5),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(WORDS), inner, max_size=5),
    ),
    max_leaves=30,
)


def _load(files: dict[str, str]) -> None:
    try:
        result = load_catalog_texts(files, root="schemas")
    except CatalogError as exc:
        assert exc.issues, "a CatalogError always carries issues"
        for issue in exc.issues:
            assert issue.location.file.startswith("schemas/")
            assert issue.location.line >= 1 and issue.location.column >= 1
            assert "\n" not in str(issue)
        return
    assert isinstance(result, Catalog)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(main=documents, other=documents)
def test_random_documents_never_crash(main: Any, other: Any) -> None:
    if isinstance(main, dict):
        main = {"catalog": "t", **main}
    _load({"a.yaml": yaml.safe_dump(main), "common.yaml": yaml.safe_dump(other)})


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(FILES)),
    position=st.integers(0, 10_000),
    length=st.integers(0, 8),
    insert=st.text(alphabet=" :-[]{},'\"#&*!|>\n\tabc$/", max_size=4),
)
def test_mutated_valid_catalog_never_crashes(
    name: str, position: int, length: int, insert: str
) -> None:
    text = FILES[name]
    at = position % (len(text) + 1)
    _load({**FILES, name: text[:at] + insert + text[at + length:]})
