"""Transports: the same typed events across processes, on a broker, with the bus's guarantees.

`NatsTransport` (NATS JetStream, `nats` extra) and `SnsSqsTransport` (AWS SNS + SQS, `aws`
extra) import their drivers only when used.
"""

from tidings.runtime.transports._base import (
    Handle,
    Incoming,
    MessageTooLarge,
    RemoteSubscription,
    Transport,
    TransportError,
    wire_name,
)
from tidings.runtime.transports._nats import NatsTransport
from tidings.runtime.transports._sns_sqs import SnsSqsTransport
from tidings.runtime.transports._wire import from_headers, subject, to_headers

__all__ = [
    "Handle",
    "Incoming",
    "MessageTooLarge",
    "NatsTransport",
    "RemoteSubscription",
    "SnsSqsTransport",
    "Transport",
    "TransportError",
    "from_headers",
    "subject",
    "to_headers",
    "wire_name",
]
