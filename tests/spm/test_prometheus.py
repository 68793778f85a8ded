"""The backend's metrics endpoint exposes the counts under the OpenTelemetry spanmetrics connector's names."""

from __future__ import annotations

import requests
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from prometheus_client.parser import text_string_to_metric_families

from tests.builders import SpanSpec
from tests.spm.conftest import unique

MS = 1_000_000


def scrape(backend) -> dict[str, list]:
    text = requests.get(backend.url("metrics", "/metrics"), timeout=5).text
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def test_calls_and_duration_histogram_with_the_connector_labels(shared_backend) -> None:
    service = unique("prom")
    shared_backend.send(
        [SpanSpec(service, "GET /p", duration_ns=3 * MS) for _ in range(4)]
        + [SpanSpec(service, "GET /p", duration_ns=300 * MS, status_code=Status.STATUS_CODE_ERROR)]
    )
    shared_backend.calls_counted(service, 5)
    families = scrape(shared_backend)
    calls = {
        s.labels["status_code"]: s.value
        for s in families["traces_span_metrics_calls"]
        if s.name == "traces_span_metrics_calls_total" and s.labels["service_name"] == service
    }
    assert calls == {"STATUS_CODE_UNSET": 4, "STATUS_CODE_ERROR": 1}
    samples = [
        s for s in families["traces_span_metrics_duration_milliseconds"] if s.labels.get("service_name") == service
    ]
    unset = [s for s in samples if s.labels["status_code"] == "STATUS_CODE_UNSET"]
    assert {s.labels["span_name"] for s in unset} == {"GET /p"}
    assert {s.labels["span_kind"] for s in unset} == {"SPAN_KIND_SERVER"}
    buckets = {s.labels["le"]: s.value for s in unset if s.name.endswith("_bucket")}
    assert buckets["2"] == 0 and buckets["4"] == 4 and buckets["+Inf"] == 4
    (total,) = [s.value for s in unset if s.name.endswith("_sum")]
    assert total == 12


def test_series_beyond_the_cardinality_limit_fold_into_one_overflow_series(start_backend) -> None:
    backend = start_backend("memory", extra={"processors.spanmetrics.aggregation_cardinality_limit": 3})
    backend.send([SpanSpec("crowded", f"op {i}", kind=Span.SPAN_KIND_SERVER) for i in range(10)])
    backend.calls_counted("crowded", 3)
    calls = [s for s in scrape(backend)["traces_span_metrics_calls"] if s.name.endswith("_total")]
    named = [s for s in calls if s.labels.get("service_name") == "crowded"]
    (overflow,) = [s for s in calls if s.labels.get("otel_metric_overflow") == "true"]
    assert len(named) == 3 and sum(s.value for s in named) == 3
    assert overflow.value == 7
