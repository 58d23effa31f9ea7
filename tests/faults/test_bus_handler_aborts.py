"""A handler ending in a BaseException that is not the bus's own cancellation (a CancelledError
from a task someone else cancelled, a custom BaseException, SystemExit) is a failed attempt:
counted, retried, dead at max_attempts; other subscribers and serial mode go on working."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

from tests.faults.support import SqlBackend, eventually
from tests.store.support import CATALOG
from tidings.runtime import EventBus, Message, Mode

pytestmark = pytest.mark.anyio


class Poison(BaseException):
    pass


async def _foreign_cancel(message: Message[Any]) -> None:
    # Awaits a task someone else cancelled: asyncio raises CancelledError here.
    task = asyncio.get_running_loop().create_task(asyncio.sleep(10))
    asyncio.get_running_loop().call_soon(task.cancel)
    await task


async def _poison(message: Message[Any]) -> None:
    await anyio.sleep(0)
    raise Poison("not an Exception")


def _statuses(backend: SqlBackend) -> list[str]:
    return [r[0] for r in backend.admin("SELECT status FROM deliveries", ())]


async def _aborting_handler_is_a_failed_attempt(backend: SqlBackend, handler: Any, mode: Mode) -> None:
    ok: list[int] = []

    async def fine(message: Message[Any]) -> None:
        await anyio.sleep(0.001)
        ok.append(message.data.shipment_id)

    bus = EventBus(CATALOG, store=backend.new(), poll_interval=0.05)
    bus.on("shipmentCreated", handler, mode=mode, name="aborting")
    bus.on("shipmentCreated", fine, mode=mode, name="fine")
    async with bus:
        for i in range(3):
            await bus.publish("shipmentCreated", {"shipmentId": i})

        async def settled() -> bool:
            return all(s in ("succeeded", "dead") for s in _statuses(backend)) and len(ok) == 3

        await eventually(settled)
        await bus.publish("shipmentCreated", {"shipmentId": 3})  # serial mode still works
        await bus.drain()
    rows = backend.admin("SELECT subscriber, status, attempts, last_error FROM deliveries", ())
    aborting = [r for r in rows if r[0] == "aborting"]
    assert len(aborting) == 4
    for _, status, attempts, error in aborting:
        # shipment 3: the bus stops right after it; shutdown may leave it pending
        assert (status, attempts) == ("dead", 3) or status in ("pending", "failed"), rows
        if status == "dead":
            assert "HandlerAborted" in error
    assert sum(1 for r in aborting if r[1] == "dead") >= 3
    assert sorted(ok) == [0, 1, 2, 3]


@pytest.mark.parametrize("mode", ["async", "serial"])
async def test_a_foreign_cancelled_error_is_a_failed_attempt(
    sql_backend: SqlBackend, mode: Mode, anyio_backend: str
) -> None:
    if anyio_backend != "asyncio":
        pytest.skip("trio has no way to raise another task's cancellation into a handler")
    await _aborting_handler_is_a_failed_attempt(sql_backend, _foreign_cancel, mode)


@pytest.mark.parametrize("mode", ["async", "serial"])
async def test_a_base_exception_is_a_failed_attempt(sql_backend: SqlBackend, mode: Mode) -> None:
    await _aborting_handler_is_a_failed_attempt(sql_backend, _poison, mode)
