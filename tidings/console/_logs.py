"""The event logs the console shows: the ONE place it opens stores (readers for pages, writable
stores and the app's bus for replay)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

from tidings.console._audit import AuditLog
from tidings.runtime import EventBus
from tidings.runtime.stores import LogReader, PostgresStore, SQLiteStore, Store, open_store


@dataclass(eq=False)
class Log:
    """One event log: `reader` answers the pages; `store` (opened by `start` unless read-only)
    takes resets; `bus` is set when replays run through the app's handlers in this process."""

    index: int
    reader: LogReader
    store: Store
    bus: EventBus | None = None
    audit: AuditLog | None = field(default=None)

    @property
    def label(self) -> str:
        """The log's name for people."""
        return self.reader.label


def _identity(store: Store) -> tuple[str, ...]:
    if isinstance(store, SQLiteStore):
        return ("sqlite", str(Path(store.path).resolve()))
    if isinstance(store, PostgresStore):
        return ("postgres", store.dsn, store.schema)
    return ("object", str(id(store)))


def open_logs(dbs: tuple[str, ...], bus: EventBus | None) -> list[Log]:
    """Readers on each log of `dbs` (URLs as `--db` takes them), or on the bus's store when none is
    given; the log the bus writes to replays through it. Raises `StoreError` for a log that is
    missing or not a tidings event log (nothing is created)."""
    stores = [open_store(url) for url in dbs]
    if not stores and bus is not None and bus.store is not None:
        stores = [bus.store]
    bus_identity = _identity(bus.store) if bus is not None and bus.store is not None else None
    logs: list[Log] = []
    try:
        for index, store in enumerate(stores):
            via_bus = bus if bus_identity is not None and _identity(store) == bus_identity else None
            logs.append(Log(index, LogReader.for_store(via_bus.store if via_bus and via_bus.store
                                                       else store), store, via_bus))
    except BaseException:
        close_logs(logs)
        raise
    return logs


def close_logs(logs: list[Log]) -> None:
    """Close the readers (and audit connections) of `logs`."""
    for log in logs:
        log.reader.close()
        if log.audit is not None:
            log.audit.close()


async def start_writes(logs: list[Log], stack: AsyncExitStack) -> None:
    """Open what replay writes with, on `stack`: the app's bus (which opens its store) or the log's
    store, and the `console_actions` table (created here, the console's own migration step)."""
    started: set[int] = set()
    for log in logs:
        if log.bus is not None:
            if id(log.bus) not in started:
                await stack.enter_async_context(log.bus)
                started.add(id(log.bus))
            log.store = log.bus.store or log.store
        else:
            await stack.enter_async_context(log.store)
        log.audit = AuditLog.for_store(log.store)
