"""The running totals in Prometheus form, under the OpenTelemetry spanmetrics connector's names.

``traces_span_metrics_calls_total`` and the
``traces_span_metrics_duration_milliseconds`` histogram, labelled
``service_name``, ``span_name``, ``span_kind`` and ``status_code`` with the
connector's values (``SPAN_KIND_SERVER``, ``STATUS_CODE_ERROR``), so Jaeger's
Prometheus-backed Monitor tab and existing dashboards can scrape the backend's
metrics endpoint directly.  The overflow series carries only
``otel_metric_overflow="true"``.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from backend.processors.spanmetrics.aggregator import Aggregator
from backend.processors.spanmetrics.series import OVERFLOW_KEY, SeriesKey, kind_label, status_label

CALLS = "traces_span_metrics_calls"
DURATION = "traces_span_metrics_duration_milliseconds"
_LABELS = ["service_name", "span_name", "span_kind", "status_code"]
_OVERFLOW_LABELS = ["otel_metric_overflow"]


def _labels(key: SeriesKey) -> list[str]:
    service, name, kind, status = key
    return [service, name, kind_label(kind), status_label(status)]


_CALLS_HELP = "Spans counted per service, span name, kind and status."
_DURATION_HELP = "Span durations in milliseconds."


def _bound(value: float) -> str:
    return f"{value:g}"


class SpanMetricsCollector(Collector):
    def __init__(self, aggregator: Aggregator) -> None:
        self._aggregator = aggregator

    def collect(self) -> Iterator[Metric]:
        calls = CounterMetricFamily(CALLS, _CALLS_HELP, labels=_LABELS)
        durations = HistogramMetricFamily(DURATION, _DURATION_HELP, labels=_LABELS)
        bounds = [_bound(b) for b in self._aggregator.bounds_ms] + ["+Inf"]
        for key, (count, sum_ns, counts) in self._aggregator.totals():
            cumulative, running = [], 0
            for bound, bucket in zip(bounds, counts, strict=True):
                running += bucket
                cumulative.append((bound, running))
            if key == OVERFLOW_KEY:  # its own label set: it stands for no one service or span
                overflow_calls = CounterMetricFamily(CALLS, _CALLS_HELP, labels=_OVERFLOW_LABELS)
                overflow_calls.add_metric(["true"], count)
                overflow_durations = HistogramMetricFamily(DURATION, _DURATION_HELP, labels=_OVERFLOW_LABELS)
                overflow_durations.add_metric(["true"], cumulative, sum_ns / 1e6)
                calls.samples.extend(overflow_calls.samples)
                durations.samples.extend(overflow_durations.samples)
                continue
            calls.add_metric(_labels(key), count)
            durations.add_metric(_labels(key), cumulative, sum_ns / 1e6)
        yield calls
        yield durations

    def describe(self) -> Iterator[Metric]:
        return iter(())
