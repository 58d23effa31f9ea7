"""What the event-log tests share: the test catalog and the three store backends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pydantic

from tidings.runtime import CatalogSpec, MessageSpec, RetryPolicy
from tidings.runtime.stores import MemoryStore, Store

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
FAST = RetryPolicy(max_attempts=3, initial_delay=0.005, max_delay=0.02)


def terminate_connections(application_name: str) -> int:
    """From an admin connection, terminate every server connection of the PostgreSQL store
    opened with `application_name` (and only those); how many there were."""
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchall()
    return len(rows)


class Shipment(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(populate_by_name=True)
    shipment_id: int = pydantic.Field(alias="shipmentId")


class EmailAsked(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(populate_by_name=True)
    shipment_id: int = pydantic.Field(alias="shipmentId")


CATALOG = CatalogSpec(
    "freight",
    {
        "shipmentCreated": MessageSpec("shipmentCreated", "event", Shipment, retry=FAST),
        "shipmentDeparted": MessageSpec("shipmentDeparted", "event", Shipment, retry=FAST),
        "EMAIL_Ask": MessageSpec("EMAIL_Ask", "command", EmailAsked, handler="email", retry=FAST),
    },
)


@dataclass
class Backend:
    """A store kind with its backing data: `new()` opens another store on the same data (a
    restart), `admin(sql, params)` runs SQL in a separate connection, as an admin tool does."""

    kind: str
    new: Callable[[], Store]
    admin: Callable[[str, tuple[Any, ...]], None]


def _pg_admin(schema: str) -> Callable[[str, tuple[Any, ...]], None]:
    def run(sql: str, params: tuple[Any, ...]) -> None:
        import psycopg

        with psycopg.connect(PG_DSN, autocommit=True, options=f"-c search_path={schema}") as conn:
            conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]

    return run


def _memory_admin(store: MemoryStore) -> Callable[[str, tuple[Any, ...]], None]:
    # Only the statement the suite uses: set deliveries of a message back to pending.
    def run(sql: str, params: tuple[Any, ...]) -> None:
        assert sql.startswith("UPDATE deliveries SET status = 'pending'")
        for key, row in store.rows.items():
            if str(key[0]) == str(params[0]) and key[1] == params[1]:
                store.rows[key] = replace(row, status="pending", owner=None, lease_until=None)

    return run


