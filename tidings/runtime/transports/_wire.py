"""How a stored message travels: the JSON payload as the body, everything else as headers
(NATS headers, SNS/SQS message attributes). Both sides of every transport use this."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from tidings.runtime.stores._base import StoredMessage

MESSAGE_ID = "Nats-Msg-Id"
NAME = "Tidings-Name"
VERSION = "Tidings-Version"
EMITTED_AT = "Tidings-Emitted-At"
CORRELATION_ID = "Tidings-Correlation-Id"
CAUSATION_ID = "Tidings-Causation-Id"
PRODUCER = "Tidings-Producer"
TRACEPARENT = "traceparent"
"""The W3C trace context header (its standard name), present when the message was traced."""


def subject(catalog: str, name: str) -> str:
    """The subject (NATS) / routing name of event `name` of `catalog`: `tidings.<catalog>.<name>`."""
    return f"tidings.{catalog}.{name}"


def to_headers(message: StoredMessage) -> dict[str, str]:
    """The headers that carry `message`'s metadata (its payload travels as the body)."""
    headers = {
        MESSAGE_ID: str(message.id),
        NAME: message.name,
        VERSION: str(message.version),
        EMITTED_AT: message.emitted_at.isoformat(),
        CORRELATION_ID: str(message.correlation_id),
    }
    if message.causation_id is not None:
        headers[CAUSATION_ID] = str(message.causation_id)
    if message.producer is not None:
        headers[PRODUCER] = message.producer
    if message.traceparent is not None:
        headers[TRACEPARENT] = message.traceparent
    return headers


def size_bound(message: StoredMessage) -> int:
    """More bytes than `message` takes on the wire, its body and headers (or attributes)
    included, computed without encoding or formatting anything: a quick "surely small enough"
    before a size check. The fixed headers (ids, version, time, their names) stay under 4 KiB."""
    variable = len(message.payload) + len(message.name) + len(message.producer or "") + len(
        message.traceparent or "")
    return 4 * variable + 4096  # at most 4 UTF-8 bytes a character


def from_headers(headers: Mapping[str, str], body: bytes | str) -> StoredMessage:
    """The stored message that `to_headers` and its body describe; ValueError (naming the
    header) when one is missing or malformed."""
    try:
        causation = headers.get(CAUSATION_ID)
        return StoredMessage(
            UUID(headers[MESSAGE_ID]), headers[NAME], int(headers[VERSION]),
            body.decode() if isinstance(body, bytes) else body,
            datetime.fromisoformat(headers[EMITTED_AT]), UUID(headers[CORRELATION_ID]),
            UUID(causation) if causation else None, headers.get(PRODUCER), headers.get(TRACEPARENT),
        )
    except KeyError as exc:
        raise ValueError(f"not a tidings message: header {exc.args[0]} is missing") from None
    except ValueError as exc:
        raise ValueError(f"not a tidings message: bad header value ({exc})") from None
