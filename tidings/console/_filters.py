"""The message filters as query parameters (the pages' and the API's), parsed in one place."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from uuid import UUID

from tidings.runtime.stores import STATUSES, MessageFilter

FIELDS = ("name", "status", "subscriber", "producer", "since", "until", "correlation", "q")
"""The query parameters a message list takes (besides `before`, the keyset cursor)."""


class BadFilter(ValueError):
    """A query parameter that cannot be used; the message names it and the fix."""


def _time(value: str, key: str, now: datetime) -> datetime:
    match = re.fullmatch(r"(\d+)\s*([smhd])", value.strip())
    if match:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match[2]]
        return now - timedelta(**{unit: int(match[1])})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadFilter(f"{key}: {value!r} is neither an ISO time (2026-11-26T14:00) nor a duration"
                        " back from now (30m, 2h, 1d)") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def uuid_param(value: str, key: str) -> UUID:
    """`value` as a message id, or `BadFilter` naming `key`."""
    try:
        return UUID(value.strip())
    except ValueError:
        raise BadFilter(f"{key}: {value!r} is not a message id (a UUID)") from None


def parse_filter(params: Mapping[str, str]) -> MessageFilter:
    """The `MessageFilter` the query parameters ask for (empty values are ignored)."""
    values = {k: params.get(k, "").strip() for k in FIELDS}
    now = datetime.now(UTC)
    status = values["status"] or None
    if status is not None and status not in STATUSES:
        raise BadFilter(f"status: {status!r} is not one of {', '.join(STATUSES)}")
    return MessageFilter(
        name=values["name"] or None,
        status=status,
        subscriber=values["subscriber"] or None,
        producer=values["producer"] or None,
        since=_time(values["since"], "since", now) if values["since"] else None,
        until=_time(values["until"], "until", now) if values["until"] else None,
        correlation_id=uuid_param(values["correlation"], "correlation") if values["correlation"] else None,
        text=values["q"] or None,
    )
