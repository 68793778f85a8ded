"""/api/v3/*: OTLP/JSON traces wrapped in ``result``, services, operations, and the gateway's error shape."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from backend.query.responses import ApiError
from backend.query.v3_params import parse_rfc3339_ns
from tests.builders import SpanSpec

NOW = datetime.now(UTC)
LATER = NOW + timedelta(hours=1)
MINUTE_NS = 60_000_000_000


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def window(**extra) -> dict:
    return {"query.start_time_min": rfc3339(NOW - timedelta(hours=1)), "query.start_time_max": rfc3339(LATER), **extra}


def found_trace_ids(response) -> set[str]:
    assert response.status_code == 200, response.json
    return {
        span["traceId"]
        for resource in response.json["result"]["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    }


def test_a_trace_is_otlp_json_with_hex_ids_inside_result(api):
    root = SpanSpec("frontend", "dispatch", resource={"host.name": "web-1"}, status_code=Status.STATUS_CODE_ERROR)
    child = root.child(
        "frontend",
        "redis GET",
        resource={"host.name": "web-1"},
        kind=Span.SPAN_KIND_CLIENT,
        links=[(root.trace_id, root.span_id)],
    )
    api.store(root, child)

    response = api.get(f"/api/v3/traces/{root.trace_id.hex()}")

    assert response.mimetype == "application/json"
    [resource] = response.json["result"]["resourceSpans"]
    assert resource["resource"]["attributes"] == [
        {"key": "service.name", "value": {"stringValue": "frontend"}},
        {"key": "host.name", "value": {"stringValue": "web-1"}},
    ]
    [scope] = resource["scopeSpans"]
    assert scope["scope"] == {"name": "tests"}
    first, second = scope["spans"]
    assert first["traceId"] == root.trace_id.hex() and first["spanId"] == root.span_id.hex()
    assert (first["kind"], first["status"], first["startTimeUnixNano"]) == (2, {"code": 2}, str(root.start_ns))
    assert second["parentSpanId"] == root.span_id.hex()
    assert second["links"] == [{"traceId": root.trace_id.hex(), "spanId": root.span_id.hex()}]


def test_spans_of_different_resources_are_in_separate_resource_spans(api):
    root = SpanSpec("frontend", "dispatch")
    api.store(root, root.child("driver", "find"))

    body = api.get(f"/api/v3/traces/{root.trace_id.hex()}").json

    services = [
        resource["resource"]["attributes"][0]["value"]["stringValue"] for resource in body["result"]["resourceSpans"]
    ]
    assert services == ["frontend", "driver"]


def test_a_missing_trace_is_a_404_in_the_gateway_error_shape(api):
    response = api.get("/api/v3/traces/0123456789abcdef0123456789abcdef")

    assert response.status_code == 404
    assert response.json == {"error": {"httpCode": 404, "message": "No traces found"}}


def test_a_malformed_trace_id_is_a_400_in_the_gateway_error_shape(api):
    response = api.get("/api/v3/traces/xyz")

    assert response.status_code == 400
    assert response.json == {
        "error": {
            "httpCode": 400,
            "message": "malformed parameter trace_id: 'xyz' is not a trace id of 1 to 32 hex digits",
        }
    }


def test_a_malformed_start_time_of_a_get_trace_is_a_400(api):
    response = api.get("/api/v3/traces/abcd", start_time="yesterday")

    assert response.status_code == 400
    assert response.json["error"]["message"].startswith("malformed parameter start_time:")


def test_find_traces_by_service_and_operation(api):
    dispatch, config, other = SpanSpec("frontend", "/dispatch"), SpanSpec("frontend", "/config"), SpanSpec("route", "x")
    api.store(dispatch, config, other)

    response = api.get(
        "/api/v3/traces", **window(**{"query.service_name": "frontend", "query.operation_name": "/config"})
    )

    assert found_trace_ids(response) == {config.trace_id.hex()}


def test_find_traces_accepts_the_camel_case_parameter_names(api):
    spec = SpanSpec("frontend", "/dispatch")
    api.store(spec)

    params = {
        "query.serviceName": "frontend",
        "query.startTimeMin": rfc3339(NOW - timedelta(hours=1)),
        "query.startTimeMax": rfc3339(LATER),
    }

    assert found_trace_ids(api.get("/api/v3/traces", **params)) == {spec.trace_id.hex()}


def test_find_traces_by_duration_attributes_and_search_depth(api):
    slow = SpanSpec("route", "compute", duration_ns=2_000_000_000, attributes={"customer": "123"})
    fast = SpanSpec("route", "compute", duration_ns=1_000, attributes={"customer": "123"})
    other = SpanSpec("route", "compute", duration_ns=2_000_000_000, attributes={"customer": "392"})
    api.store(slow, fast, other)

    response = api.get(
        "/api/v3/traces",
        **window(**{"query.duration_min": "1s", "query.attributes": '{"customer":"123"}', "query.search_depth": "5"}),
    )

    assert found_trace_ids(response) == {slow.trace_id.hex()}


def test_search_depth_caps_the_number_of_traces(api):
    api.store(*[SpanSpec("route", "compute", start_ns=time.time_ns() - i * MINUTE_NS) for i in range(4)])

    response = api.get("/api/v3/traces", **window(**{"query.service_name": "route", "query.search_depth": "3"}))

    assert len(found_trace_ids(response)) == 3


def test_a_search_that_finds_nothing_is_a_404(api):
    response = api.get("/api/v3/traces", **window(**{"query.service_name": "nobody"}))

    assert response.status_code == 404
    assert response.json == {"error": {"httpCode": 404, "message": "No traces found"}}


V3_BAD_SEARCHES = [
    ({"query.service_name": "a"}, "query.start_time_min and query.start_time_max are required"),
    (window(**{"query.start_time_min": "2024-13-01T00:00:00Z"}), "malformed parameter query.start_time_min:"),
    (window(**{"query.start_time_max": "last tuesday"}), "malformed parameter query.start_time_max:"),
    (window(**{"query.search_depth": "-1"}), "malformed parameter query.search_depth:"),
    (window(**{"query.num_traces": "many"}), "malformed parameter query.num_traces:"),
    (window(**{"query.duration_min": "1x"}), "malformed parameter query.duration_min:"),
    (window(**{"query.durationMax": "soon"}), "malformed parameter query.durationMax:"),
    (window(**{"query.attributes": "{oops"}), "malformed parameter query.attributes: not JSON"),
    (window(**{"query.attributes": '{"n":1}'}), "malformed parameter query.attributes: expecting a JSON object"),
]


@pytest.mark.parametrize(("params", "message"), V3_BAD_SEARCHES, ids=[m for _, m in V3_BAD_SEARCHES])
def test_a_bad_search_parameter_is_a_400_in_the_gateway_error_shape(api, params, message):
    response = api.get("/api/v3/traces", **params)

    assert response.status_code == 400
    assert response.json["error"]["httpCode"] == 400
    assert response.json["error"]["message"].startswith(message), response.json


def test_services_are_listed_sorted(api):
    api.store(SpanSpec("route", "op"), SpanSpec("customer", "op"))

    assert api.get("/api/v3/services").json == {"services": ["customer", "route"]}


def test_operations_list_name_and_span_kind(api):
    api.store(
        SpanSpec("driver", "FindNearest", kind=Span.SPAN_KIND_SERVER),
        SpanSpec("driver", "redis GET", kind=Span.SPAN_KIND_CLIENT),
    )

    assert api.get("/api/v3/operations", service="driver", span_kind="client").json == {
        "operations": [{"name": "redis GET", "spanKind": "client"}]
    }


def test_operations_without_a_service_is_a_400(api):
    response = api.get("/api/v3/operations")

    assert response.status_code == 400
    assert response.json["error"]["httpCode"] == 400


def test_an_unknown_v3_path_is_a_404_in_the_gateway_error_shape(api):
    response = api.get("/api/v3/nothing")

    assert response.status_code == 404
    assert response.json["error"]["httpCode"] == 404


def test_rfc3339_times_keep_nanoseconds_and_offsets():
    assert parse_rfc3339_ns("1970-01-01T00:00:01.000000123Z", "t") == 1_000_000_123
    assert parse_rfc3339_ns("1970-01-01T02:00:00+02:00", "t") == 0
    assert parse_rfc3339_ns("1969-12-31T23:30:00-00:30", "t") == 0


def test_rfc3339_rejects_an_impossible_date():
    with pytest.raises(ApiError) as refused:
        parse_rfc3339_ns("2024-02-30T00:00:00Z", "query.start_time_min")

    assert refused.value.status == 400
