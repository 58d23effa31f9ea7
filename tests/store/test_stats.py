"""`Store.stats()`: the same counts from the memory store, a real SQLite file and a real
PostgreSQL schema (the numbers `tidings db stats` prints and the gauges report)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from tests.store.support import Backend
from tidings.runtime.stores import Outcome, StoredMessage

pytestmark = pytest.mark.anyio


def message(at: datetime) -> StoredMessage:
    mid = uuid4()
    return StoredMessage(mid, "shipmentCreated", 1, '{"shipmentId": 1}', at, mid, None, "core")


async def test_counts_by_status_outbox_backlog_and_the_oldest_open_delivery(backend: Backend) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    old, new, done = message(now - timedelta(hours=2)), message(now - timedelta(minutes=5)), message(now)
    lease = now + timedelta(minutes=1)
    store = backend.new()
    async with store:
        empty = await store.stats()
        assert (empty.messages, empty.outbox, empty.oldest_pending) == (0, {}, None)
        assert empty.deliveries == {"pending": 0, "running": 0, "succeeded": 0, "failed": 0, "dead": 0}
        await store.append(old, ["tasks.open", "tidings.relay:nats"], "bus-1", lease)
        await store.append(new, ["tasks.open", "email.send", "tidings.relay:nats"], "bus-1", lease)
        await store.append(done, ["tasks.open", "tidings.relay:sns-sqs"], "bus-1", lease)
        for m, subscriber, status in [
            (old, "tasks.open", "dead"), (new, "tasks.open", "succeeded"), (new, "email.send", "failed"),
            (done, "tasks.open", "succeeded"), (done, "tidings.relay:sns-sqs", "succeeded"),
            (old, "tidings.relay:nats", "pending"),
        ]:
            store.record(Outcome(m.id, subscriber, status, now))  # type: ignore[arg-type]
        await store.flush()
        stats = await store.stats()
        cheap = await store.stats(totals=False)
    assert stats.messages == 3
    assert stats.deliveries == {"pending": 1, "running": 1, "succeeded": 3, "failed": 1, "dead": 1}
    assert stats.outbox == {"tidings.relay:nats": 2}
    assert stats.oldest_pending == old.emitted_at
    assert cheap.messages is None
    assert cheap.deliveries == {"pending": 1, "running": 1, "failed": 1, "dead": 1}
    assert (cheap.outbox, cheap.oldest_pending) == (stats.outbox, stats.oldest_pending)
