"""Jaeger's metrics API answers from spans with known counts, errors and durations, exactly."""

from __future__ import annotations

import time

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from tests.builders import SpanSpec
from tests.spm.conftest import Backend, unique

MS = 1_000_000
WINDOW = {"ratePer": 600_000, "lookback": 60_000, "step": 60_000}


def spans(service: str, name: str, count: int, duration_ms: float, errors: int = 0, kind: int = Span.SPAN_KIND_SERVER):
    return [
        SpanSpec(
            service,
            name,
            kind=kind,
            duration_ns=int(duration_ms * MS),
            status_code=Status.STATUS_CODE_ERROR if i < errors else Status.STATUS_CODE_UNSET,
        )
        for i in range(count)
    ]


def last_value(series: dict) -> float:
    return series["metricPoints"][-1]["gaugeValue"]["doubleValue"]


def labels(series: dict) -> dict[str, str]:
    return {label["name"]: label["value"] for label in series["labels"]}


@pytest.fixture(scope="module")
def known(shared_backend: Backend) -> str:
    """30 server spans of one service: 20 of 3 ms (5 failed) on /fast, 10 of 300 ms on /slow; 7 client spans."""
    service = unique("known")
    shared_backend.send(
        spans(service, "GET /fast", 20, 3, errors=5)
        + spans(service, "GET /slow", 10, 300)
        + spans(service, "SELECT", 7, 1, kind=Span.SPAN_KIND_CLIENT)
    )
    shared_backend.calls_counted(service, 30)
    return service


def test_call_rate_times_the_rate_window_is_the_number_of_server_spans(shared_backend: Backend, known: str) -> None:
    body = shared_backend.metrics("calls", service=known, **WINDOW).json()
    assert body["name"] == "service_call_rate" and body["type"] == "GAUGE"
    (series,) = body["metrics"]
    assert labels(series) == {"service_name": known}
    assert last_value(series) * 600 == pytest.approx(30)


def test_error_rate_is_failed_over_all_calls(shared_backend: Backend, known: str) -> None:
    (series,) = shared_backend.metrics("errors", service=known, **WINDOW).json()["metrics"]
    assert last_value(series) == pytest.approx(5 / 30)


def test_grouping_by_operation_splits_calls_and_errors(shared_backend: Backend, known: str) -> None:
    calls = shared_backend.metrics("calls", service=known, groupByOperation="true", **WINDOW).json()
    assert calls["name"] == "service_operation_call_rate"
    by_operation = {labels(s)["operation"]: last_value(s) * 600 for s in calls["metrics"]}
    assert by_operation == pytest.approx({"GET /fast": 20, "GET /slow": 10})
    errors = shared_backend.metrics("errors", service=known, groupByOperation="1", **WINDOW).json()
    assert {labels(s)["operation"]: last_value(s) for s in errors["metrics"]} == pytest.approx(
        {"GET /fast": 5 / 20, "GET /slow": 0.0}
    )


def test_span_kind_selects_other_spans(shared_backend: Backend, known: str) -> None:
    (series,) = shared_backend.metrics("calls", service=known, spanKind="client", **WINDOW).json()["metrics"]
    assert last_value(series) * 600 == pytest.approx(7)
    both = shared_backend.metrics("calls", service=known, spanKind=["client", "server"], **WINDOW).json()
    assert last_value(both["metrics"][0]) * 600 == pytest.approx(37)


@pytest.mark.parametrize(("quantile", "low", "high"), [(0.5, 2, 4), (0.6, 2, 4), (0.95, 200, 400), (0.99, 200, 400)])
def test_latency_quantiles_fall_in_the_bucket_holding_them(
    shared_backend: Backend, known: str, quantile: float, low: float, high: float
) -> None:
    body = shared_backend.metrics("latencies", service=known, quantile=quantile, **WINDOW).json()
    assert body["name"] == "service_latencies"
    (series,) = body["metrics"]
    assert low <= last_value(series) <= high


def test_points_cover_the_lookback_at_each_step_with_timestamps(shared_backend: Backend, known: str) -> None:
    end_ms = int(time.time() * 1000) + 1000
    body = shared_backend.metrics(
        "calls", service=known, endTs=end_ms, lookback=120_000, step=30_000, ratePer=600_000
    ).json()
    points = body["metrics"][0]["metricPoints"]
    assert len(points) == 5
    assert points[-1]["timestamp"].endswith("Z")
    assert [p["gaugeValue"]["doubleValue"] * 600 for p in points][-1] == pytest.approx(30)


def test_several_services_each_get_a_series(shared_backend: Backend, known: str) -> None:
    other = unique("other")
    shared_backend.send(spans(other, "GET /x", 4, 10))
    shared_backend.calls_counted(other, 4)
    body = shared_backend.metrics("calls", service=[known, other], **WINDOW).json()
    assert {labels(s)["service_name"]: round(last_value(s) * 600) for s in body["metrics"]} == {known: 30, other: 4}


def test_an_unknown_service_has_no_series(shared_backend: Backend) -> None:
    assert shared_backend.metrics("calls", service="nobody-here", **WINDOW).json()["metrics"] == []


def test_minstep_is_the_store_resolution_in_milliseconds(shared_backend: Backend) -> None:
    body = shared_backend.metrics("minstep").json()
    assert body["data"] == 15_000 and body["errors"] is None
