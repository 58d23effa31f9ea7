"""The group commit's batched writes, on every store: awkward text survives the multi-row
statements, several outcomes of one delivery in one group apply in order, big groups are chunked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import anyio
import pytest

from tests.store.support import Backend
from tidings.runtime._ids import uuid7
from tidings.runtime.stores import Outcome, StoredMessage

pytestmark = pytest.mark.anyio

AWKWARD = ['a "quoted", {braced} \\ back\\slashed', "NULL", "", " spaced ", "ünïcödé ✓", "a,b}{c"]


def stored(payload: object = None, producer: str | None = None) -> StoredMessage:
    message_id = uuid7()
    return StoredMessage(
        message_id, "shipmentCreated", 1, json.dumps({"shipmentId": 1, "note": payload}),
        datetime.now(UTC), message_id, None, producer,
    )


async def test_awkward_text_round_trips(backend: Backend) -> None:
    lease = datetime.now(UTC) + timedelta(seconds=30)
    messages = [stored(text, producer=text) for text in AWKWARD]
    async with backend.new() as store, anyio.create_task_group() as tg:
        for message in messages:
            tg.start_soon(store.append, message, AWKWARD, 'owner "x"', lease)
    async with backend.new() as store:
        for message in messages:
            store.record(Outcome(message.id, AWKWARD[0], "dead", datetime.now(UTC),
                                 error=f"Traceback\n  {AWKWARD[0]}\n{AWKWARD[4]}"))
        await store.flush()
        entries = {e.message.id: e for e in await store.log(limit=1000)}
    for message in messages:
        entry = entries[message.id]
        assert entry.message.producer == message.producer
        assert json.loads(entry.message.payload) == json.loads(message.payload)
        rows = {d.subscriber: d for d in entry.deliveries}
        assert set(rows) == set(AWKWARD)
        assert rows[AWKWARD[1]].owner == 'owner "x"' and rows[AWKWARD[1]].status == "running"
        assert rows[AWKWARD[0]].status == "dead"
        assert rows[AWKWARD[0]].last_error == f"Traceback\n  {AWKWARD[0]}\n{AWKWARD[4]}"


async def test_outcomes_of_one_delivery_in_one_group_apply_in_order(backend: Backend) -> None:
    message = stored()
    start = datetime.now(UTC)
    retry_at = start + timedelta(seconds=5)
    async with backend.new() as store:
        await store.append(message, ["a", "b"], "me", start + timedelta(seconds=30))
        # No await in between: all of these go to the writer in one group.
        store.record(Outcome(message.id, "a", "failed", start + timedelta(milliseconds=1),
                             error="first", next_attempt_at=retry_at, owner="me",
                             lease_until=retry_at))
        store.record(Outcome(message.id, "b", "pending", start + timedelta(milliseconds=1),
                             attempts_delta=-1))
        store.record(Outcome(message.id, "a", "running", start + timedelta(milliseconds=2),
                             owner="me", lease_until=retry_at, attempts_delta=1))
        store.record(Outcome(message.id, "a", "failed", start + timedelta(milliseconds=3),
                             error="second", next_attempt_at=retry_at))
        store.record(Outcome(message.id, "a", "running", start + timedelta(milliseconds=4),
                             owner="me", attempts_delta=1))
        store.record(Outcome(message.id, "a", "succeeded", start + timedelta(milliseconds=5)))
        await store.flush()
        rows = {d.subscriber: d for d in await store.deliveries([(message.id, "a"), (message.id, "b")])}
    assert rows["a"].status == "succeeded"
    assert rows["a"].attempts == 3
    assert rows["a"].last_error == "second"
    assert rows["a"].next_attempt_at is None and rows["a"].owner is None
    assert rows["a"].lease_until is None
    assert abs(rows["a"].updated_at - (start + timedelta(milliseconds=5))) < timedelta(microseconds=2)
    assert rows["b"].status == "pending" and rows["b"].attempts == 0


async def test_a_group_larger_than_one_statement_is_stored_whole(backend: Backend) -> None:
    lease = datetime.now(UTC) + timedelta(seconds=30)
    messages = [stored(i) for i in range(1_200)]
    async with backend.new() as store:
        async with anyio.create_task_group() as tg:
            for message in messages:
                tg.start_soon(store.append, message, ["a", "b"], "me", lease)
        for message in messages:
            store.record(Outcome(message.id, "b", "succeeded", datetime.now(UTC)))
        await store.flush()
        entries = await store.log(limit=10_000)
    assert {e.message.id for e in entries} == {m.id for m in messages}
    assert all(
        [(d.subscriber, d.status) for d in e.deliveries] == [("a", "running"), ("b", "succeeded")]
        for e in entries
    )
