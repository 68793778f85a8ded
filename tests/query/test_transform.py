"""``POST /api/transform``: OTLP/JSON in, Jaeger trace JSON out, as Jaeger's query service answers; nothing stored."""

from __future__ import annotations

import json

from backend.query.app import create_app
from backend.query.params import QueryLimits
from tests.builders import SpanSpec, otlp_json
from tests.query.conftest import error_envelope


def post(api, body: bytes):
    return api.client.post("/api/transform", data=body, content_type="application/json")


def test_otlp_json_becomes_jaeger_traces_one_per_trace_id(api):
    root = SpanSpec("frontend", "HTTP GET /dispatch", attributes={"http.status_code": 200})
    child = root.child("customer", "SQL SELECT")
    other = SpanSpec("driver", "FindNearest")

    response = post(api, json.dumps(otlp_json([root, child, other])).encode())

    assert response.status_code == 200
    traces = {trace["traceID"]: trace for trace in response.json["data"]}
    assert set(traces) == {root.trace_id.hex(), other.trace_id.hex()}
    spans = {span["spanID"]: span for span in traces[root.trace_id.hex()]["spans"]}
    assert spans[child.span_id.hex()]["references"] == [
        {"refType": "CHILD_OF", "traceID": root.trace_id.hex(), "spanID": root.span_id.hex()}
    ]
    assert {"key": "http.status_code", "type": "int64", "value": 200} in spans[root.span_id.hex()]["tags"]
    services = {process["serviceName"] for process in traces[root.trace_id.hex()]["processes"].values()}
    assert services == {"frontend", "customer"}


def test_nothing_is_stored(api):
    post(api, json.dumps(otlp_json([SpanSpec("frontend", "root")])).encode())

    assert api.get("/api/services").json["data"] == []


def test_a_body_that_is_not_otlp_json_is_a_400_saying_why(api):
    response = post(api, b"{not json")

    assert response.status_code == 400
    assert response.json["errors"][0]["msg"].startswith("body is not valid JSON")


def test_a_span_with_a_bad_id_is_a_400(api):
    document = otlp_json([SpanSpec("frontend", "root")])
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"] = "00"

    response = post(api, json.dumps(document).encode())

    assert response.status_code == 400
    assert "invalid ids" in response.json["errors"][0]["msg"]


def test_a_body_over_the_limit_is_a_413(api):
    app = create_app(api.storage.reader(), api.storage.dependency_reader(), limits=QueryLimits(max_transform_bytes=100))
    body = json.dumps(otlp_json([SpanSpec("frontend", "root")])).encode()

    response = app.test_client().post("/api/transform", data=body, content_type="application/json")

    assert response.json == error_envelope(413, "the body must be an OTLP/JSON file of at most 100 bytes")
