"""Event-log stores for `EventBus(catalog, store=...)`: SQLite (embedded default), PostgreSQL, memory.

All three keep the same two tables (`messages`, `deliveries`) and follow the same rules; one
behavioural test suite runs on each.
"""

from __future__ import annotations

from tidings.runtime.stores._base import (
    OPEN,
    RELAY_PREFIX,
    SCHEMA_VERSION,
    STATUSES,
    Claim,
    Delivery,
    LogEntry,
    Outcome,
    Status,
    Store,
    StoredMessage,
    StoreError,
    StoreStats,
)
from tidings.runtime.stores._memory import MemoryStore
from tidings.runtime.stores._postgres import PostgresStore
from tidings.runtime.stores._queries import LogReader, MessageFilter, Problem, error_type
from tidings.runtime.stores._sqlite import SQLiteStore
from tidings.runtime.stores._storable import MAX_DEPTH, UnstorableError, check_storable


def open_store(url: str, *, read_only: bool = False) -> Store:
    """A store from a URL: `postgresql://...` (or `postgres://`, `?schema=NAME` picks the schema),
    `sqlite:///relative.db` / `sqlite:////absolute.db` (as SQLAlchemy), or a plain file path (SQLite).

    With `read_only`, opening it never creates or migrates anything and it refuses writes (see
    `SQLiteStore` and `PostgresStore`). A bad URL is a `StoreError` saying what is accepted.
    """
    if url.startswith(("postgresql://", "postgres://")):
        base, _, query = url.partition("?")
        params = dict(part.partition("=")[::2] for part in query.split("&") if part)
        schema = params.pop("schema", "public")
        rest = "&".join(f"{k}={v}" for k, v in params.items())
        try:
            return PostgresStore(f"{base}?{rest}" if rest else base, schema=schema, read_only=read_only)
        except ValueError as exc:
            raise StoreError(f"{url!r}: ?schema= {exc}") from None
    if url.startswith("sqlite:///"):
        return SQLiteStore(url.removeprefix("sqlite:///"), read_only=read_only)
    if "://" in url:
        raise StoreError(
            f"unknown store URL {url!r}: use postgresql://..., sqlite:///path.db or a file path"
        )
    return SQLiteStore(url, read_only=read_only)


__all__ = [
    "MAX_DEPTH",
    "OPEN",
    "RELAY_PREFIX",
    "SCHEMA_VERSION",
    "STATUSES",
    "Claim",
    "Delivery",
    "LogEntry",
    "LogReader",
    "MemoryStore",
    "MessageFilter",
    "Outcome",
    "PostgresStore",
    "Problem",
    "SQLiteStore",
    "Status",
    "Store",
    "StoreError",
    "StoreStats",
    "StoredMessage",
    "UnstorableError",
    "check_storable",
    "error_type",
    "open_store",
]
