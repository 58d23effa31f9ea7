"""Installing and removing the OpenTelemetry hooks."""

from __future__ import annotations

from opentelemetry import metrics, trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from tidings import __version__
from tidings.otel._hooks import OtelHooks
from tidings.runtime._telemetry import slot


def instrument(tracer_provider: TracerProvider | None = None,
               meter_provider: MeterProvider | None = None, *, stats_interval: float = 15.0) -> None:
    """Trace and measure every `EventBus` of this process from now on, with these providers
    (the global ones, as set by `opentelemetry.trace.set_tracer_provider` and
    `opentelemetry.metrics.set_meter_provider`, when not given).

    Spans: `send <name>` (PRODUCER) for each emit, `process <name>` (CONSUMER) for each
    delivery attempt, `send <name>` (PRODUCER) for each outbox relay publish, `replay` for each
    replay. Metrics: the counters `tidings.messages.emitted`, `tidings.delivery.attempts`,
    `tidings.deliveries`, the histogram `tidings.delivery.lag` and the gauges
    `tidings.deliveries.current`, `tidings.outbox.backlog` and
    `tidings.deliveries.oldest_pending_age`, which count each started bus's event log every
    `stats_interval` seconds. Buses started before the call are traced, their logs not counted.
    Calling it again replaces the previous instrumentation."""
    if stats_interval <= 0:
        raise ValueError(f"stats_interval must be positive seconds, got {stats_interval!r}")
    tracer = trace.get_tracer("tidings", __version__, tracer_provider=tracer_provider)
    meter = metrics.get_meter("tidings", __version__, meter_provider=meter_provider)
    slot.hooks = OtelHooks(tracer, meter, stats_interval)


def uninstrument() -> None:
    """Stop tracing and measuring: from now on the bus pays one `is None` check per emit and
    per delivery attempt, as if `instrument()` had never been called."""
    slot.hooks = None


def instrumented() -> bool:
    """True between `instrument()` and `uninstrument()`."""
    return isinstance(slot.hooks, OtelHooks)


async def refresh_gauges() -> None:
    """Count every started bus's event log for the gauges now (they are otherwise counted every
    `stats_interval` seconds): before reading the gauges in a test, or at a scrape you serve."""
    hooks = slot.hooks
    if isinstance(hooks, OtelHooks):
        await hooks.gauges.refresh()
