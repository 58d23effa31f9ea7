"""One rule for what every store keeps: `check_storable` refuses what a store would change or
refuse, and what it accepts comes back identical from SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pydantic
import pytest

from tests.faults.support import SqlBackend
from tidings.runtime.stores import MAX_DEPTH, StoredMessage, UnstorableError, check_storable


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth - 1):
        value = [value]
    return {"deep": value} if depth else value


REFUSED = [
    ({"a": {"b": "x\x00y"}}, "/a/b", "NUL"),
    ({"a": ["ok", "\ud800"]}, "/a/1", "lone surrogate"),
    ({"k\x00": 1}, "/k\x00", "NUL"),
    ({"a/b~": "\udfff"}, "/a~1b~0", "lone surrogate"),
    ({"n": float("nan")}, "/n", "not a JSON number"),
    ({"n": [1.5, float("-inf")]}, "/n/1", "not a JSON number"),
    ({"blob": b"a\x00"}, "/blob", "NUL"),
    (nested(MAX_DEPTH + 1), "/deep" + "/0" * (MAX_DEPTH - 1), "nested deeper than"),
]


@pytest.mark.parametrize(("value", "pointer", "reason"), REFUSED)
def test_what_no_store_can_keep_is_refused_with_its_pointer(value: Any, pointer: str, reason: str) -> None:
    with pytest.raises(UnstorableError, match=reason) as caught:
        check_storable(value)
    assert caught.value.pointer == pointer
    assert isinstance(caught.value, ValueError)


def test_the_first_bad_value_in_document_order_is_named() -> None:
    with pytest.raises(UnstorableError) as caught:
        check_storable({"a": "fine", "b": ["x\x00", float("nan")], "c": "\x00"})
    assert caught.value.pointer == "/b/0"


def test_a_model_is_checked_by_its_aliases() -> None:
    class Model(pydantic.BaseModel):
        amount_due: float = pydantic.Field(alias="amountDue")

    with pytest.raises(UnstorableError) as caught:
        check_storable(Model(amountDue=float("inf")))
    assert caught.value.pointer == "/amountDue"


ACCEPTED = {
    "unicode": {"text": "naïve café 日本 🚚 \u2028 tab\tnewline\n", "emoji key 🚚": True},
    "numbers": {"big": 10**30, "neg": -(2**63), "float": 1.5e-300, "zero": -0.0},
    "deep": nested(MAX_DEPTH),
    "escapes": {"q": 'say "hi" \\ back', "ctl": "\x01\x1f"},
}


@pytest.mark.anyio
@pytest.mark.parametrize("case", sorted(ACCEPTED))
async def test_what_is_accepted_comes_back_identical_from_every_store(
    sql_backend: SqlBackend, case: str, tmp_path: Path
) -> None:
    value = ACCEPTED[case]
    check_storable(value)
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    mid = uuid4()
    message = StoredMessage(mid, "anything", 1, text, datetime.now(UTC), mid, None, None)
    async with sql_backend.new() as store:
        await store.append(message, [], "me", datetime.now(UTC))
        [entry] = await store.log(message_id=mid)
    assert pydantic.TypeAdapter(Any).validate_json(entry.message.payload) == value
