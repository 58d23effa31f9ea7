"""A bus process for the SIGKILL test: `emit` publishes 10,000 messages, `recover` finishes them.

Usage: python crash_app.py emit|recover STORE_URL WORKDIR
Each handled delivery appends "subscriber message-id" to WORKDIR/handled; each accepted emit
(emit returned) appends its id to WORKDIR/accepted.
"""

from __future__ import annotations

import os
import sys

import anyio
import pydantic

from tidings.runtime import CatalogSpec, EventBus, Message, MessageSpec, RetryPolicy
from tidings.runtime.stores import open_store

TOTAL = 10_000
PUBLISHERS = 100


class Created(pydantic.BaseModel):
    n: int


CATALOG = CatalogSpec("crash", {
    "created": MessageSpec("created", "event", Created, retry=RetryPolicy(5, 0.01, 0.1)),
})


def main(mode: str, url: str, workdir: str) -> None:
    handled = os.open(os.path.join(workdir, "handled"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    accepted = os.open(os.path.join(workdir, "accepted"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    store = open_store(url)
    bus = EventBus(CATALOG, store=store, lease=1.0, poll_interval=0.1)

    def handler_for(name: str) -> object:
        async def handle(message: Message[Created]) -> None:
            await anyio.sleep(0)
            os.write(handled, f"{name} {message.id}\n".encode())
        return handle

    bus.on("created", handler_for("tasks"), name="tasks", mode="async")  # type: ignore[arg-type]
    bus.on("created", handler_for("crm"), name="crm", mode="serial")  # type: ignore[arg-type]

    async def publisher(start: int) -> None:
        for n in range(start, TOTAL, PUBLISHERS):
            message = await bus.publish("created", {"n": n})
            os.write(accepted, f"{message.id}\n".encode())

    async def run() -> None:
        async with bus:
            if mode == "emit":
                async with anyio.create_task_group() as tg:
                    for start in range(PUBLISHERS):
                        tg.start_soon(publisher, start)
                await anyio.sleep_forever()  # the test kills us
            while any([await store.log(status=s, limit=1) for s in ("pending", "running", "failed")]):
                await anyio.sleep(0.1)

    anyio.run(run)


if __name__ == "__main__":
    main(*sys.argv[1:4])
