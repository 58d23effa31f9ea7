"""A hand-edited row that cannot be read goes `dead` with the reason; the others still run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.faults.support import SqlBackend, eventually, open_backend
from tests.store.support import CATALOG
from tidings.runtime import EventBus, Message

pytestmark = pytest.mark.anyio

# How an admin tool can break one row, per store: SQL run against the message with id `?`.
SQLITE_DAMAGE = {
    "correlation_id": "UPDATE messages SET correlation_id = 'not-a-uuid' WHERE id = ?",
    "emitted_at": "UPDATE messages SET emitted_at = 'yesterday' WHERE id = ?",
    "payload bytes": "UPDATE messages SET payload = CAST(x'7b22ff22fe7d' AS TEXT) WHERE id = ?",
    "message row": "DELETE FROM messages WHERE id = ?",
}
POSTGRES_DAMAGE = {
    "emitted_at": "UPDATE messages SET emitted_at = '12000-01-01' WHERE id = ?",
    "message row": "DELETE FROM messages WHERE id = ?",
}


async def _one_bad_row_among_many(backend: SqlBackend, damage: str) -> None:
    ran: Counter[int] = Counter()

    def tasks(message: Message[Any]) -> None:
        ran[message.data.shipment_id] += 1

    first = EventBus(CATALOG, store=backend.new(), poll_interval=0.05)
    async with first:  # stored with no subscriber: nothing runs yet
        messages = [await first.publish("shipmentCreated", {"shipmentId": i}) for i in range(50)]
    ids = [str(m.id) for m in messages]
    for mid in ids:
        backend.admin(
            "INSERT INTO deliveries (message_id, subscriber, status, attempts, updated_at)"
            " VALUES (?, 'tasks', 'pending', 0, '2020-01-01 00:00:00')", (mid,)
        )
    if damage == "message row" and backend.kind == "postgres":
        backend.admin("ALTER TABLE deliveries DROP CONSTRAINT deliveries_message_id_fkey", ())
    sql = (SQLITE_DAMAGE if backend.kind == "sqlite" else POSTGRES_DAMAGE)[damage]
    backend.admin(sql, (ids[7],))

    bus = EventBus(CATALOG, store=backend.new(), poll_interval=0.05)
    bus.on("shipmentCreated", tasks, name="tasks")
    async with bus:
        async def settled() -> bool:
            rows = backend.admin("SELECT status FROM deliveries WHERE subscriber = 'tasks'", ())
            return all(r[0] in ("succeeded", "dead") for r in rows)

        await eventually(settled)
    rows = backend.admin("SELECT message_id, status, last_error FROM deliveries", ())
    by_status = Counter(r[1] for r in rows)
    assert by_status == {"succeeded": 49, "dead": 1}, rows
    dead = next(r for r in rows if r[1] == "dead")
    assert str(dead[0]) == str(ids[7]) and "cannot read the stored message" in dead[2]
    assert sorted(ran) == [i for i in range(50) if i != 7] and set(ran.values()) == {1}


CASES = [("sqlite", d) for d in SQLITE_DAMAGE] + [("postgres", d) for d in POSTGRES_DAMAGE]


@pytest.mark.parametrize(("kind", "damage"), CASES)
async def test_one_bad_row_never_blocks_claiming(tmp_path: Path, kind: str, damage: str) -> None:
    with open_backend(kind, tmp_path) as backend:
        await _one_bad_row_among_many(backend, damage)
