"""The bus refuses, before anything is committed, a payload no store can keep and read back."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from tests.faults.support import SqlBackend
from tests.store.support import FAST
from tidings.runtime import CatalogSpec, EventBus, Message, MessageSpec
from tidings.runtime.stores import MAX_DEPTH, UnstorableError

pytestmark = pytest.mark.anyio


class Reading(pydantic.BaseModel):
    value: float
    label: str = ""
    extra: Any = None


CATALOG = CatalogSpec("probe", {"reading": MessageSpec("reading", "event", Reading, retry=FAST)})


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth - 1):
        value = [value]
    return value


BAD = [
    ({"value": float("nan")}, "/value"),
    ({"value": float("inf")}, "/value"),
    ({"value": 1.0, "label": "a\x00b"}, "/label"),
    ({"value": 1.0, "label": "\ud800"}, "/label"),
    ({"value": 1.0, "extra": "deep"}, "/extra" + "/0" * (MAX_DEPTH - 1)),
]


@pytest.mark.parametrize(("data", "pointer"), BAD, ids=["nan", "inf", "nul", "surrogate", "depth"])
async def test_publish_refuses_what_cannot_be_stored_before_the_commit(
    sql_backend: SqlBackend, data: dict[str, Any], pointer: str
) -> None:
    if data.get("extra") == "deep":
        data = {**data, "extra": nested(MAX_DEPTH + 5)}
    seen: list[Message[Any]] = []
    bus = EventBus(CATALOG, store=sql_backend.new(), poll_interval=0.05)
    bus.on("reading", seen.append, name="readings")
    async with bus:
        with pytest.raises(UnstorableError) as caught:
            await bus.publish("reading", data)
        assert caught.value.pointer == pointer
        ok = await bus.publish("reading", {"value": 2.5, "extra": nested(MAX_DEPTH - 1)})
    assert [m.id for m in seen] == [ok.id]  # the refused one never reached a handler
    assert sql_backend.admin("SELECT count(*) FROM messages", ()) == [(1,)]
    assert sql_backend.admin("SELECT status FROM deliveries", ()) == [("succeeded",)]
