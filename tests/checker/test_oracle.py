"""Property test: the checker's compatible verdicts hold on real instances (hypothesis-jsonschema).

A random schema is mutated once; for every (policy, direction) the checker calls compatible,
instances of the writer schema are generated and must validate under the reader schema.
The checker may be conservative (call a harmless change breaking) but never unsound.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._oracle import STATS, check_verdicts, mutated, schemas


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(f"\noracle: {dict(STATS)}")


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_compatible_verdicts_hold_on_instances(data: st.DataObject) -> None:
    old = data.draw(schemas(), label="old")
    kind, new = data.draw(mutated(old), label="new")
    assert check_verdicts(data.draw, old, new) == [], kind


@pytest.mark.parametrize(("old", "new"), [
    # Found by the oracle: widening one branch of an overlapping oneOf made `null` match twice.
    ({"oneOf": [{"type": "object", "properties": {}, "additionalProperties": False}, {}]},
     {"oneOf": [{"anyOf": [{"type": "object", "properties": {},
                            "additionalProperties": False}, {}]}, {}]}),
    # Found by the oracle: an enum next to a const narrows it, even to nothing.
    ({"const": "k"}, {"const": "k", "enum": ["x"]}),
    ({"const": "k"}, {"const": "k", "enum": [1, 2, None]}),
])
def test_regressions_found_by_the_oracle(old: dict[str, object], new: dict[str, object]) -> None:
    from tidings.checker import is_compatible

    assert not is_compatible(old, new, "backward")
    assert not is_compatible(old, new, "backward", policy="strict")
