"""Zipkin v2 over HTTP: spans from OpenTelemetry's Zipkin exporter, protobuf and gzip bodies, bad ids."""

from __future__ import annotations

import gzip
import json
import os
from typing import Any

import requests
from opentelemetry.exporter.zipkin.json import ZipkinExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from backend.receivers.idl.zipkin_proto import list_of_spans
from tests.receivers.conftest import Backend
from tests.support import wait_for

FAILED = "otelcol_receiver_failed_requests_total"


def spans_url(backend: Backend) -> str:
    return backend.url("zipkin", "/api/v2/spans")


def stored(backend: Backend, trace_hex: str, spans: int) -> dict:
    found: dict = {}

    def whole() -> bool:
        found["trace"] = backend.trace(trace_hex)
        return found["trace"] is not None and len(found["trace"]["spans"]) == spans

    wait_for(whole, timeout=10, what=f"{spans} span(s) of trace {trace_hex}")
    return found["trace"]


def tags_of(item: dict) -> dict:
    return {t["key"]: t["value"] for t in item["tags"]}


def test_spans_from_the_opentelemetry_zipkin_exporter_are_stored_with_kind_status_and_events(backend: Backend):
    provider = TracerProvider(resource=Resource.create({"service.name": "zipkin-json", "host.name": "box-2"}))
    provider.add_span_processor(SimpleSpanProcessor(ZipkinExporter(endpoint=spans_url(backend))))
    tracer = provider.get_tracer("tests.receivers")
    server = tracer.start_as_current_span("GET /dispatch", kind=SpanKind.SERVER)
    client = tracer.start_as_current_span("redis GET", kind=SpanKind.CLIENT, attributes={"db.system": "redis"})
    with server as root, client as child:
        child.add_event("timeout", {"attempt": 3})
        child.set_status(Status(StatusCode.ERROR, "took too long"))
    provider.shutdown()
    trace_hex = format(root.get_span_context().trace_id, "032x")

    found = stored(backend, trace_hex, 2)

    by_name = {s["operationName"]: s for s in found["spans"]}
    client_span = by_name["redis GET"]
    assert client_span["references"][0]["spanID"] == by_name["GET /dispatch"]["spanID"]
    assert tags_of(by_name["GET /dispatch"])["span.kind"] == "server"
    assert tags_of(client_span)["span.kind"] == "client"
    assert tags_of(client_span)["db.system"] == "redis"
    assert tags_of(client_span)["error"] is True
    assert tags_of(client_span)["otel.status_description"] == "took too long"
    assert [{f["key"]: f["value"] for f in log["fields"]} for log in client_span["logs"]] == [
        {"event": "timeout", "attempt": 3}
    ]
    assert found["processes"][client_span["processID"]]["serviceName"] == "zipkin-json"


def proto_body(trace_id: bytes, span_id: bytes, service: str) -> bytes:
    message = list_of_spans()()
    span = message.spans.add(trace_id=trace_id, id=span_id, kind=2, name="GET /route", timestamp=1_700_000_000_000_000)
    span.duration = 2500
    span.local_endpoint.service_name = service
    span.remote_endpoint.ipv4 = bytes([10, 0, 0, 7])
    span.tags["http.method"] = "GET"
    return message.SerializeToString()


def test_a_gzipped_protobuf_list_of_spans_is_stored(backend: Backend):
    trace_id, span_id = os.urandom(16), os.urandom(8)

    response = requests.post(
        spans_url(backend),
        data=gzip.compress(proto_body(trace_id, span_id, "zipkin-proto")),
        headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"},
        timeout=5,
    )

    assert response.status_code == 202
    span = stored(backend, trace_id.hex(), 1)["spans"][0]
    assert span["spanID"] == span_id.hex()
    assert span["duration"] == 2500
    assert tags_of(span)["net.peer.ip"] == "10.0.0.7"
    assert tags_of(span)["http.method"] == "GET"


def test_a_64_bit_trace_id_is_widened_to_128_bits(backend: Backend):
    span: dict[str, Any] = {
        "traceId": os.urandom(8).hex(),
        "id": os.urandom(8).hex(),
        "name": "op",
        "timestamp": 1,
        "duration": 1,
    }

    response = requests.post(spans_url(backend), json=[span], timeout=5)

    assert response.status_code == 202
    assert stored(backend, span["traceId"].rjust(32, "0"), 1)["spans"][0]["operationName"] == "op"


def test_a_bad_id_rejects_the_request_with_400_naming_it_and_is_counted(backend: Backend):
    labels = {"receiver": "zipkin", "transport": "http", "reason": "malformed"}
    before = backend.metric(FAILED, **labels)
    good = {"traceId": os.urandom(16).hex(), "id": os.urandom(8).hex(), "name": "op"}
    bad = {**good, "id": "not-hex-at-all!!"}

    response = requests.post(spans_url(backend), data=json.dumps([good, bad]), timeout=5)

    assert response.status_code == 400
    assert "span 1: id" in response.text
    assert backend.metric(FAILED, **labels) == before + 1
    assert backend.trace(good["traceId"]) is None


def test_a_body_that_is_not_a_json_array_is_answered_400(backend: Backend):
    response = requests.post(spans_url(backend), data=b'{"traceId": "1"}', timeout=5)

    assert response.status_code == 400
    assert "array" in response.text


def test_other_content_types_are_answered_415(backend: Backend):
    response = requests.post(spans_url(backend), data=b"x", headers={"Content-Type": "text/plain"}, timeout=5)

    assert response.status_code == 415
