"""The OpenTelemetry hooks of the bus: a PRODUCER span per emit, a span per delivery attempt
(CONSUMER; PRODUCER for an outbox relay's publish to the broker), W3C trace context carried
with each message, replays in a new trace linked to the original, and the bus's counters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextvars import Token
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.metrics import Meter
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from tidings.otel._gauges import Gauges
from tidings.runtime import Message
from tidings.runtime._telemetry import Attempt, Hooks, slot
from tidings.runtime.bus._lifecycle import Lifecycle
from tidings.runtime.stores import RELAY_PREFIX, Store

SYSTEM = "messaging.system"
DESTINATION = "messaging.destination.name"
MESSAGE_ID = "messaging.message.id"
CONVERSATION_ID = "messaging.message.conversation_id"
OPERATION_TYPE = "messaging.operation.type"
OPERATION_NAME = "messaging.operation.name"
CONSUMER_GROUP = "messaging.consumer.group.name"
ERROR_TYPE = "error.type"
ATTEMPT = "tidings.delivery.attempt"
OUTCOME = "tidings.delivery.outcome"
SUBSCRIBER = "tidings.subscriber"

CONSUMED_FROM = {None: "tidings", "nats": "nats", "sns-sqs": "aws_sqs"}
"""`messaging.system` of a delivery, by the kind of transport it came from (None: this bus)."""
RELAYED_TO = {"nats": "nats", "sns-sqs": "aws.sns"}
"""`messaging.system` of an outbox relay's publish, by transport kind."""
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
               1800.0, 3600.0, 21600.0, 86400.0)
"""Histogram boundaries (seconds) of the lag from emit to a delivery's final outcome."""
MAX_REPLAYS = 10_000
"""Replayed deliveries remembered until their outcome (the oldest are forgotten past this)."""

_PROPAGATOR = TraceContextTextMapPropagator()


def traceparent(context: Context | None = None) -> str | None:
    """The W3C `traceparent` of the span current in `context` (or now); None when no span is
    recording (no SDK installed, or not sampled)."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=context)
    return carrier.get("traceparent")


def context_of(value: str | None) -> Context | None:
    """The context `value` (a `traceparent`) names, None for none or a malformed one."""
    if not value:
        return None
    context = _PROPAGATOR.extract({"traceparent": value})
    return context if trace.get_current_span(context).get_span_context().is_valid else None


class _Attempt(Attempt):
    __slots__ = ("hooks", "key", "message", "metric", "span", "token")

    def __init__(self, hooks: OtelHooks, span: Span, message: Message[Any], key: tuple[UUID, str],
                 metric: dict[str, AttributeValue]) -> None:
        self.hooks = hooks
        self.span = span
        self.message = message
        self.key = key
        self.metric = metric
        self.token: Token[Context] | None = otel_context.attach(trace.set_span_in_context(span))

    def _end(self, outcome: str, final: bool) -> None:
        if self.token is None:  # told twice: the first outcome stands
            return
        otel_context.detach(self.token)
        self.token = None
        self.span.end()
        hooks = self.hooks
        attributes = {**self.metric, OUTCOME: outcome}
        hooks.attempts.add(1, attributes)
        if final:
            hooks.deliveries.add(1, attributes)
            if self.message.emitted_at is not None:
                hooks.lag.record((datetime.now(UTC) - self.message.emitted_at).total_seconds(), self.metric)
            hooks.replays.pop(self.key, None)

    def succeeded(self) -> None:
        self._end("succeeded", True)

    def failed(self, error: BaseException, retry_at: datetime | None) -> None:
        if self.token is None:
            return
        span = self.span
        span.record_exception(error)
        span.set_attribute(ERROR_TYPE, type(error).__qualname__)
        if retry_at is None:
            span.set_status(Status(StatusCode.ERROR, f"dead after attempt {self.message.attempt}:"
                                                     f" {type(error).__name__}: {error}"))
            self._end("dead", True)
            return
        span.add_event("tidings.retry", {"tidings.retry_at": retry_at.isoformat(),
                                         ATTEMPT: self.message.attempt + 1})
        self._end("retry", False)

    def abandoned(self) -> None:
        if self.token is None:
            return
        self.span.add_event("tidings.abandoned")
        self._end("abandoned", False)


class OtelHooks(Hooks):
    """The hooks `tidings.otel.instrument()` installs: spans from `tracer`, instruments from
    `meter`, and the store gauges counted every `stats_interval` seconds."""

    def __init__(self, tracer: Tracer, meter: Meter, stats_interval: float) -> None:
        self.tracer = tracer
        self.replays: dict[tuple[UUID, str], Context] = {}
        """Replayed deliveries (message id, subscriber) -> the replay's context, until final."""
        self.emitted = meter.create_counter(
            "tidings.messages.emitted", unit="{message}",
            description="Messages emitted (validated and accepted by a bus)")
        self.attempts = meter.create_counter(
            "tidings.delivery.attempts", unit="{attempt}",
            description="Delivery attempts, by outcome (succeeded, retry, dead, abandoned)")
        self.deliveries = meter.create_counter(
            "tidings.deliveries", unit="{delivery}",
            description="Deliveries that reached a final outcome (succeeded, dead)")
        self.lag = meter.create_histogram(
            "tidings.delivery.lag", unit="s", explicit_bucket_boundaries_advisory=LAG_BUCKETS,
            description="Seconds from a message's emit to its delivery's final outcome")
        self.gauges = Gauges(meter, stats_interval, lambda: slot.hooks is self)

    async def publish(self, name: str, send: Callable[[str | None], Awaitable[Message[Any]]]
                      ) -> Message[Any]:
        attributes: dict[str, AttributeValue] = {
            SYSTEM: "tidings", OPERATION_TYPE: "send", OPERATION_NAME: "send", DESTINATION: name}
        with self.tracer.start_as_current_span(f"send {name}", kind=SpanKind.PRODUCER,
                                               attributes=attributes) as span:
            try:
                message = await send(traceparent())
            except Exception as exc:
                emitted = getattr(exc, "emitted", None)  # EmitError: stored, a listener failed
                if isinstance(emitted, Message):
                    self._sent(span, emitted)
                raise
            self._sent(span, message)
            return message

    def _sent(self, span: Span, message: Message[Any]) -> None:
        span.set_attribute(MESSAGE_ID, str(message.id))
        span.set_attribute(CONVERSATION_ID, str(message.correlation_id))
        self.emitted.add(1, {SYSTEM: "tidings", DESTINATION: message.name})

    def attempt(self, message: Message[Any], subscriber: str, transport: str | None) -> Attempt:
        system: str
        if subscriber.startswith(RELAY_PREFIX):
            kind = subscriber.removeprefix(RELAY_PREFIX)
            system, operation, span_kind = RELAYED_TO.get(kind, kind), "send", SpanKind.PRODUCER
        else:
            system = CONSUMED_FROM.get(transport) or str(transport)
            operation, span_kind = "process", SpanKind.CONSUMER
        metric: dict[str, AttributeValue] = {
            SYSTEM: system, DESTINATION: message.name, SUBSCRIBER: subscriber}
        attributes: dict[str, AttributeValue] = {
            **metric, OPERATION_TYPE: operation, OPERATION_NAME: operation,
            MESSAGE_ID: str(message.id), CONVERSATION_ID: str(message.correlation_id),
            ATTEMPT: message.attempt,
        }
        if span_kind is SpanKind.CONSUMER:
            attributes[CONSUMER_GROUP] = subscriber
        key = (message.id, subscriber)
        origin = context_of(message.traceparent)
        replay = self.replays.get(key)
        links: Sequence[Link] = ()
        if replay is not None:  # a replay: in the replay's trace, linked to the original
            parent: Context | None = replay
            if origin is not None:
                links = [Link(trace.get_current_span(origin).get_span_context(),
                              {"tidings.link": "replay of"})]
        else:
            parent = origin
        span = self.tracer.start_span(f"{operation} {message.name}", context=parent, kind=span_kind,
                                      attributes=attributes, links=links)
        return _Attempt(self, span, message, key, metric)

    def replaying(self, keys: Sequence[tuple[UUID, str]]) -> None:
        if not keys:
            return
        span = self.tracer.start_span("replay", kind=SpanKind.INTERNAL,
                                      attributes={"tidings.replay.deliveries": len(keys)})
        context = trace.set_span_in_context(span)
        span.end()
        for key in keys:
            self.replays.pop(key, None)
            self.replays[key] = context
        while len(self.replays) > MAX_REPLAYS:
            del self.replays[next(iter(self.replays))]

    def watch(self, store: Store, catalog: str, relays: Sequence[str], lifecycle: Lifecycle) -> None:
        group = lifecycle.task_group
        if group is not None:
            group.start_soon(self.gauges.watch, store, catalog, relays, lifecycle)
