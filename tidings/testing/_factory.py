"""`BusFactory`: what the `tidings_bus` fixture gives a test: started buses of a catalog, on a
MemoryStore or a temporary SQLite file, sharing one fake clock and one in-memory broker."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar, overload
from uuid import uuid4

from tidings.runtime import CatalogSpec, EventBus, MemoryStore, NatsTransport, SQLiteStore, Store, Transport
from tidings.testing._clock import FakeClock
from tidings.testing._harness import TestBus
from tidings.testing._transport import MemoryBroker, MemoryTransport

B = TypeVar("B", bound=EventBus)
AsyncCM = AbstractAsyncContextManager

TRANSPORT_ENV = "TIDINGS_TEST_TRANSPORT"
"""`memory` (the default) or `nats`: which broker `transport=True` buses use."""
NATS_URL_ENV = "TIDINGS_TEST_NATS_URL"
"""The NATS server `TIDINGS_TEST_TRANSPORT=nats` connects to (default nats://127.0.0.1:4222)."""


class BusFactory:
    """Makes started `TestBus`es for one test: `async with tidings_bus(FreightBus) as bus:`.

    Every bus it makes shares `clock` (a `FakeClock`, so retries run without waiting) and
    `broker` (the in-memory broker their transport doubles meet on). `kind` selects the
    broker of `transport=True` buses: `"memory"`, or `"nats"` for the real NATS server (the
    `TIDINGS_TEST_TRANSPORT` environment variable sets the default).
    """

    def __init__(self, tmp_path: Path, kind: str | None = None) -> None:
        self.tmp_path = tmp_path
        self.clock = FakeClock()
        """The clock every bus of this test runs on."""
        self.broker = MemoryBroker(self.clock)
        """The in-memory broker the transport doubles share."""
        self.kind = kind or os.environ.get(TRANSPORT_ENV, "memory")
        if self.kind not in ("memory", "nats"):
            raise ValueError(f"{TRANSPORT_ENV}={self.kind!r}: use 'memory' or 'nats'")
        self._stream = f"TIDINGS_TEST_{uuid4().hex[:12].upper()}"
        self._made = 0

    @property
    def stream(self) -> str:
        """The NATS stream of this test's buses (kind `nats`; deleted by `close`)."""
        return self._stream

    def close(self) -> None:
        """Remove what the test left on a real broker (its NATS stream); the fixture calls it."""
        if self.kind == "nats":
            delete_nats_stream(os.environ.get(NATS_URL_ENV, "nats://127.0.0.1:4222"), self._stream)

    def transport(self) -> Transport:
        """A new transport on this test's broker (the double, or a real NATS connection)."""
        if self.kind == "nats":
            return NatsTransport(os.environ.get(NATS_URL_ENV, "nats://127.0.0.1:4222"),
                                 stream=self._stream, fetch_timeout=0.5, deliver_policy="new")
        return MemoryTransport(self.broker)

    @overload
    def __call__(self, bus: type[B], /, *, store: Literal["memory", "sqlite"] | Store = ...,
                 transport: bool | Transport = ..., subscribe: Callable[[B], object] | None = ...,
                 real_clock: bool = ..., **options: Any) -> AsyncCM[TestBus[B]]: ...
    @overload
    def __call__(self, bus: CatalogSpec, /, *, store: Literal["memory", "sqlite"] | Store = ...,
                 transport: bool | Transport = ..., subscribe: Callable[[EventBus], object] | None = ...,
                 real_clock: bool = ..., **options: Any) -> AsyncCM[TestBus[EventBus]]: ...
    def __call__(self, bus: type[Any] | CatalogSpec, /, *,
                 store: Literal["memory", "sqlite"] | Store = "memory", transport: bool | Transport = False,
                 subscribe: Callable[[Any], object] | None = None, real_clock: bool = False,
                 **options: Any) -> AsyncCM[TestBus[Any]]:
        """A bus of the generated bus class (or an `EventBus` of the catalog spec) `bus`, to
        use as `async with`: on `store` (`"memory"`, `"sqlite"`: a new file under the test's
        temporary directory, or a `Store`), with `transport` (True: `transport()`), on the
        shared fake clock unless `real_clock`; `subscribe(bus)` runs before it starts;
        `options` go to the bus's constructor. The block gets a started `TestBus`."""
        self._made += 1
        if store == "memory":
            the_store: Store = MemoryStore()
        elif store == "sqlite":
            the_store = SQLiteStore(self.tmp_path / f"tidings-{self._made}.db")
        else:
            the_store = store
        the_transport = self.transport() if transport is True else (transport or None)
        if not real_clock:
            options.setdefault("clock", self.clock)
        options.setdefault("poll_interval", 0.05)
        made = (bus(store=the_store, transport=the_transport, **options) if isinstance(bus, type)
                else EventBus(bus, store=the_store, transport=the_transport, **options))
        if subscribe is not None:
            subscribe(made)
        broker = self.broker if isinstance(the_transport, MemoryTransport) else None
        return _started(TestBus(made, None if real_clock else self.clock, broker))


@asynccontextmanager
async def _started(harness: TestBus[Any]) -> AsyncIterator[TestBus[Any]]:
    async with harness.bus:
        yield harness




def delete_nats_stream(url: str, stream: str) -> None:
    """Delete `stream` on the NATS server at `url` (missing is fine), from any thread or loop."""

    async def delete() -> None:
        import nats

        connection = await nats.connect(url)
        try:
            await connection.jetstream().delete_stream(stream)
        except Exception:  # never created (no bus published) or already gone
            pass
        finally:
            await connection.close()

    worker = threading.Thread(target=asyncio.run, args=(delete(),))
    worker.start()
    worker.join(10)
