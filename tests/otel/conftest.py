"""OpenTelemetry's SDK with its in-memory span exporter and metric reader, installed through
`tidings.otel.instrument` for one test and removed after it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tidings.otel


@dataclass
class Telemetry:
    """What the bus reported during the test."""

    tracer_provider: TracerProvider
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        """The finished spans (those called `name`), in the order they ended."""
        return [s for s in self.exporter.get_finished_spans() if name is None or s.name == name]

    def metric(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        """(attributes, value) of every data point of metric `name` (the sum, the gauge's value
        or the histogram's count)."""
        data = self.reader.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        for point in metric.data.data_points:
                            value = getattr(point, "value", None)
                            found.append((dict(point.attributes or {}),
                                          point.count if value is None else value))
        return found

    def total(self, name: str, **attributes: Any) -> Any:
        """The sum of metric `name` over the data points having these attributes."""
        return sum(v for a, v in self.metric(name) if all(a.get(k) == w for k, w in attributes.items()))


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meters = MeterProvider(metric_readers=[reader])
    tidings.otel.instrument(tracer_provider=provider, meter_provider=meters)
    try:
        yield Telemetry(provider, exporter, reader)
    finally:
        tidings.otel.uninstrument()
        meters.shutdown()
