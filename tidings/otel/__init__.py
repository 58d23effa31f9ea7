"""OpenTelemetry for tidings (the `otel` extra: `pip install 'tidings[otel]'`; only the
`opentelemetry-api` package is needed here, an SDK and exporters are the application's choice).

    from opentelemetry.sdk.trace import TracerProvider
    import tidings.otel

    tidings.otel.instrument(tracer_provider=TracerProvider(...))

Each emit is a PRODUCER span whose W3C `traceparent` is stored with the message and carried in
NATS headers and SNS/SQS message attributes; every delivery attempt, here or in another process,
is a CONSUMER span child of it, so one trace follows a message across services. Retries are span
events, a dead delivery sets ERROR status, and a replay starts a new trace linked to the original.
"""

from tidings.otel._hooks import CONSUMED_FROM, RELAYED_TO, context_of, traceparent
from tidings.otel._install import instrument, instrumented, refresh_gauges, uninstrument

__all__ = [
    "CONSUMED_FROM",
    "RELAYED_TO",
    "context_of",
    "instrument",
    "instrumented",
    "refresh_gauges",
    "traceparent",
    "uninstrument",
]
