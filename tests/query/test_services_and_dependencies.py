"""/api/services, the two operations endpoints, /api/dependencies, and JSON safety."""

from __future__ import annotations

import time

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.builders import SpanSpec

NOW_NS = time.time_ns()
HOUR_NS = 3_600_000_000_000


def test_services_are_listed_sorted_with_their_count(api):
    api.store(SpanSpec("route", "op"), SpanSpec("customer", "op"), SpanSpec("frontend", "op"))

    body = api.get("/api/services").json

    assert body == {"data": ["customer", "frontend", "route"], "total": 3, "limit": 0, "offset": 0, "errors": None}


def test_no_services_is_an_empty_list(api):
    assert api.get("/api/services").json["data"] == []


def test_the_legacy_operations_endpoint_lists_unique_names_of_every_kind(api):
    api.store(
        SpanSpec("driver", "FindNearest", kind=Span.SPAN_KIND_SERVER),
        SpanSpec("driver", "FindNearest", kind=Span.SPAN_KIND_CLIENT),
        SpanSpec("driver", "GetDriver", kind=Span.SPAN_KIND_CLIENT),
        SpanSpec("route", "Compute"),
    )

    body = api.get("/api/services/driver/operations").json

    assert (body["data"], body["total"]) == (["FindNearest", "GetDriver"], 2)


def test_operations_carry_their_span_kind(api):
    api.store(SpanSpec("driver", "FindNearest", kind=Span.SPAN_KIND_SERVER))

    body = api.get("/api/operations", service="driver").json

    assert (body["data"], body["total"]) == ([{"name": "FindNearest", "spanKind": "server"}], 1)


def test_operations_can_be_filtered_by_span_kind(api):
    api.store(
        SpanSpec("driver", "FindNearest", kind=Span.SPAN_KIND_SERVER),
        SpanSpec("driver", "redis GET", kind=Span.SPAN_KIND_CLIENT),
    )

    body = api.get("/api/operations", service="driver", spanKind="client").json

    assert body["data"] == [{"name": "redis GET", "spanKind": "client"}]


def test_dependencies_count_calls_between_services(api):
    root = SpanSpec("frontend", "dispatch", start_ns=NOW_NS - HOUR_NS)
    api.store(root, root.child("driver", "find"), root.child("driver", "find"), root.child("route", "compute"))

    body = api.get("/api/dependencies").json

    assert sorted(body["data"], key=lambda link: link["child"]) == [
        {"parent": "frontend", "child": "driver", "callCount": 2},
        {"parent": "frontend", "child": "route", "callCount": 1},
    ]
    assert (body["total"], body["errors"]) == (0, None)


def test_dependencies_outside_end_ts_and_lookback_in_milliseconds_are_left_out(api):
    old = SpanSpec("frontend", "dispatch", start_ns=NOW_NS - 5 * HOUR_NS)
    recent = SpanSpec("frontend", "dispatch", start_ns=NOW_NS - HOUR_NS)
    api.store(old, old.child("customer", "get"), recent, recent.child("route", "compute"))

    body = api.get("/api/dependencies", endTs=NOW_NS // 1_000_000, lookback=2 * HOUR_NS // 1_000_000).json

    assert body["data"] == [{"parent": "frontend", "child": "route", "callCount": 1}]


def test_dependencies_can_be_narrowed_to_links_of_one_service(api):
    root = SpanSpec("frontend", "dispatch", start_ns=NOW_NS - HOUR_NS)
    driver = root.child("driver", "find")
    api.store(root, driver, driver.child("redis", "GET"), root.child("route", "compute"))

    body = api.get("/api/dependencies", service="driver").json

    assert sorted((link["parent"], link["child"]) for link in body["data"]) == [
        ("driver", "redis"),
        ("frontend", "driver"),
    ]


def test_a_span_named_like_markup_is_served_as_json_never_as_html(api):
    spec = SpanSpec("frontend", "<script>alert(1)</script>", attributes={"note": "a & b"})
    api.store(spec)

    response = api.get(f"/api/traces/{spec.trace_id.hex()}")

    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert b"<script>" not in response.data and b"&" not in response.data
    assert response.json["data"][0]["spans"][0]["operationName"] == "<script>alert(1)</script>"


def test_pretty_print_indents_the_json(api):
    api.store(SpanSpec("frontend", "op"))

    response = api.get("/api/services", prettyPrint="true")

    assert response.data.startswith(b'{\n    "data": [')
