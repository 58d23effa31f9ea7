"""Waiting until deliveries are final: every one `succeeded` or `dead` (retries included)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

import anyio

from tidings.runtime.stores._base import Delivery, Status, Store

FINAL: tuple[Status, ...] = ("succeeded", "dead")
"""The statuses a delivery stays in until it is replayed."""
POLL = 0.05
"""Seconds between two looks at the log while waiting."""


async def settled(
    store: Store, keys: Sequence[tuple[UUID, str]] | UUID, *, timeout: float | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> list[Delivery]:
    """Wait until the deliveries `keys` ((message id, subscriber) pairs, or every delivery of
    one message id) are final, or `timeout` seconds passed; return their rows as they are then
    (in the order of `keys`). `progress(done, total)` is called after each look at the log."""
    if isinstance(keys, UUID):
        entries = await store.log(message_id=keys, limit=1)
        keys = [(row.message_id, row.subscriber) for row in entries[0].deliveries] if entries else []
    done: dict[tuple[UUID, str], Delivery] = {}
    if keys:
        with anyio.move_on_after(timeout):
            while len(done) < len(keys):
                for row in await store.deliveries([k for k in keys if k not in done]):
                    if row.status in FINAL:
                        done[(row.message_id, row.subscriber)] = row
                if progress is not None:
                    progress(len(done), len(keys))
                if len(done) < len(keys):
                    await anyio.sleep(POLL)
    rest = {(r.message_id, r.subscriber): r
            for r in await store.deliveries([k for k in keys if k not in done])}
    found = [done.get(k) or rest.get(k) for k in keys]
    return [row for row in found if row is not None]
