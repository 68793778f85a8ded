"""/api/deep-dependencies and /api/quality-metrics computed from stored traces, checked against known answers."""

from __future__ import annotations

import time

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.builders import SpanSpec
from tests.query.conftest import Api, error_envelope

MS = 1_000_000
SERVER, CLIENT, INTERNAL = Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CLIENT, Span.SPAN_KIND_INTERNAL


def dispatch(start_ns: int) -> list[SpanSpec]:
    """frontend /dispatch -> (GET -> customer /customer -> SELECT) and (GET -> driver /drivers -> GetDriver)."""
    root = SpanSpec("frontend", "GET /dispatch", start_ns=start_ns, duration_ns=100 * MS, kind=SERVER,
                    attributes={"http.request.method": "GET"})  # fmt: skip
    to_customer = root.child("frontend", "GET", kind=CLIENT, attributes={"http.request.method": "GET"})
    customer = to_customer.child("customer", "GET /customer", kind=SERVER, attributes={"http.method": "GET"})
    query = customer.child("customer", "SELECT", kind=CLIENT, attributes={"db.system": "sqlite"})
    to_driver = root.child("frontend", "GET", kind=CLIENT, start_ns=start_ns + 50 * MS, duration_ns=40 * MS,
                           attributes={"http.request.method": "GET"})  # fmt: skip
    driver = to_driver.child("driver", "GET /drivers", kind=SERVER, attributes={"http.request.method": "GET"})
    fetch = driver.child("driver", "GetDriver", kind=INTERNAL)
    return [root, to_customer, customer, query, to_driver, driver, fetch]


def test_deep_dependencies_are_the_paths_through_the_focal_service_with_exemplar_traces(api: Api):
    now = time.time_ns()
    first, second = dispatch(now - 2_000 * MS), dispatch(now - 1_000 * MS)
    api.store(*first)
    api.store(*second)

    answer = api.get("/api/deep-dependencies", service="customer").json

    assert answer == {
        "dependencies": [
            {
                "path": [{"service": "frontend", "operation": "GET /dispatch"},
                         {"service": "customer", "operation": "GET /customer"}],
                "attributes": [{"key": "exemplar_trace_id", "value": second[0].trace_id.hex()},  # newest first
                               {"key": "exemplar_trace_id", "value": first[0].trace_id.hex()}],
            }
        ]
    }  # fmt: skip


def test_deep_dependencies_of_the_root_service_hold_every_path_and_an_operation_narrows_them(api: Api):
    api.store(*dispatch(time.time_ns() - 1_000 * MS))

    every = api.get("/api/deep-dependencies", service="frontend").json["dependencies"]
    narrowed = api.get("/api/deep-dependencies", service="driver", operation="GET /drivers").json["dependencies"]

    assert [[hop["service"] for hop in dependency["path"]] for dependency in every] == [
        ["frontend", "customer"], ["frontend", "driver"],
    ]  # fmt: skip
    assert [[hop["operation"] for hop in d["path"]] for d in narrowed] == [["GET /dispatch", "GET /drivers"]]


def test_deep_dependencies_need_a_service_and_refuse_a_bad_limit(api: Api):
    assert api.get("/api/deep-dependencies").json == error_envelope(400, "parameter 'service' is required")
    assert api.get("/api/deep-dependencies", service="x", limit="0").status_code == 400
    assert api.get("/api/deep-dependencies", service="x", lookback="soon").status_code == 400


def quality_trace(now: int) -> list[SpanSpec]:
    """Known answers (pass / fail / exempt): semconv 1 / 1 / 3, service name 4 / 1, closed 4 / 1, skew 1 / 1 / 3."""
    root = SpanSpec("shop", "GET /cart", start_ns=now, duration_ns=100 * MS, kind=SERVER,
                    attributes={"http.request.method": "GET"})  # fmt: skip
    bare_call = root.child("shop", "call", kind=CLIENT)
    skewed = root.child("stock", "reserve", kind=INTERNAL, start_ns=now - 5 * MS)
    nameless = root.child("unknown_service:python", "work", kind=INTERNAL)
    unclosed = root.child("shop", "never ended", kind=INTERNAL)
    unclosed.duration_ns = -unclosed.start_ns  # end_time_unix_nano 0
    return [root, bare_call, skewed, nameless, unclosed]


def counts(metric: dict) -> tuple[int, int, int]:
    return metric["passCount"], metric["failureCount"], metric["exemptionCount"]


def test_quality_metrics_count_each_check_per_span_and_per_service(api: Api):
    spans = quality_trace(time.time_ns() - 1_000 * MS)
    api.store(*spans)

    answer = api.get("/api/quality-metrics", hours="1").json

    metrics = {metric["name"]: metric for metric in answer["metrics"]}
    assert counts(metrics["Semantic conventions"]) == (1, 1, 3)
    assert counts(metrics["Service name"]) == (4, 1, 0)
    assert counts(metrics["Closed spans"]) == (4, 1, 0)
    assert counts(metrics["Clock skew"]) == (1, 1, 3)
    assert metrics["Clock skew"]["failureExamples"] == [
        {"traceID": spans[0].trace_id.hex(), "spanIDs": [spans[2].span_id.hex()]}
    ]
    [rows] = [detail["rows"] for detail in metrics["Service name"]["details"]]
    assert {"service": "unknown_service:python", "passCount": 0, "failureCount": 1, "exemptionCount": 0} in rows
    assert {score["key"]: score["value"] for score in answer["scores"]} == {
        "coverage": 62,
        "quality": 65,
    }  # 0.6 * 1/2 + 0.4 * 4/5; 0.5 * 4/5 + 0.5 * 1/2
    assert "5 spans in the 1 most recent traces of all services" in answer["bannerText"]["value"]


def test_quality_metrics_refuse_a_bad_time_window(api: Api):
    assert api.get("/api/quality-metrics", hours="soon").status_code == 400
    assert api.get("/api/quality-metrics", hours="-1").status_code == 400
