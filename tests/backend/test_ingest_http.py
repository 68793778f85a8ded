"""OTLP/HTTP ingest: what the OpenTelemetry SDK sends is stored; bad input gets the right status and no harm."""

from __future__ import annotations

import gzip
import json

import pytest
import requests
from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.backend.clients import PROTOBUF, post_otlp, query_trace, sdk_spans, span_count, trace_hex
from tests.builders import SpanSpec, export_request
from tests.support import wait_for

LIMIT = 256 * 1024


@pytest.fixture(scope="module")
def backend(module_backends):
    return module_backends(
        "--storage", "memory", "--set", f"receivers.otlp.protocols.http.max_request_body_size={LIMIT}"
    )


def traces_url(backend) -> str:
    return backend.url("otlp-http", "/v1/traces")


def stored(backend, trace_id: str, spans: int) -> None:
    wait_for(lambda: span_count(backend.url("query"), trace_id) == spans, timeout=10, what=f"{spans} spans stored")


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_spans_from_the_sdk_exporter_become_queryable(backend, compression):
    spans = sdk_spans("frontend", children=3)
    exporter = OTLPSpanExporter(endpoint=traces_url(backend), compression=compression)
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    stored(backend, trace_hex(spans), 4)
    trace = query_trace(backend.url("query"), trace_hex(spans))
    assert {s["operationName"] for s in trace["spans"]} == {"GET /dispatch", "child 0", "child 1", "child 2"}


def test_otlp_json_is_accepted_and_answered_in_json(backend):
    root = SpanSpec("customer", "SQL SELECT")
    document = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "customer"}}]},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": root.trace_id.hex(),
                                "spanId": root.span_id.hex(),
                                "name": "SQL SELECT",
                                "kind": 3,
                                "startTimeUnixNano": str(root.start_ns),
                                "endTimeUnixNano": str(root.start_ns + 1000),
                            }
                        ]
                    }
                ],
            }
        ]
    }
    response = post_otlp(traces_url(backend), json.dumps(document).encode(), {"Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {}
    stored(backend, root.trace_id.hex(), 1)


def assert_rejected_alone(backend, rejected: SpanSpec, reason: str) -> None:  # noqa: ANN001
    """Beside a good span, ``rejected`` is refused as a partial success naming ``reason``; the good one is stored."""
    good = SpanSpec("driver", "FindNearest")
    response = post_otlp(traces_url(backend), export_request([good, rejected]).SerializeToString())
    assert response.status_code == 200
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 1
    assert reason in answer.partial_success.error_message
    stored(backend, good.trace_id.hex(), 1)


def test_spans_with_invalid_ids_are_rejected_as_a_partial_success(backend):
    assert_rejected_alone(backend, SpanSpec("driver", "bad", span_id=bytes(8)), "span id")


def test_spans_with_times_past_2262_are_rejected_as_a_partial_success_not_a_failed_batch(backend):
    """Storage keeps signed 64-bit nanoseconds; one such span must not make its whole batch unstorable."""
    assert_rejected_alone(backend, SpanSpec("driver", "late", start_ns=2**63), "2262")


def test_malformed_protobuf_is_400_with_a_status_body(backend):
    response = post_otlp(traces_url(backend), b"\xff\xff\xff not protobuf")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/x-protobuf"
    assert "protobuf" in Status.FromString(response.content).message


def test_malformed_json_is_400_with_a_json_status_body(backend):
    response = post_otlp(traces_url(backend), b'{"resourceSpans": [', {"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["message"]


def test_an_unsupported_content_type_is_415(backend):
    response = post_otlp(traces_url(backend), b"hello", {"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert "application/x-protobuf" in response.json()["message"]


def test_an_unsupported_content_encoding_is_415(backend):
    response = post_otlp(traces_url(backend), b"x", {**PROTOBUF, "Content-Encoding": "br"})
    assert response.status_code == 415


def test_a_body_over_the_limit_is_413(backend):
    big = SpanSpec("frontend", "big", attributes={"blob": "x" * (LIMIT + 1)})
    response = post_otlp(traces_url(backend), export_request([big]).SerializeToString())
    assert response.status_code == 413


def test_a_gzip_body_that_inflates_past_the_limit_is_413(backend):
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))
    assert len(bomb) < LIMIT
    response = post_otlp(traces_url(backend), bomb, {**PROTOBUF, "Content-Encoding": "gzip"})
    assert response.status_code == 413


def test_broken_gzip_is_400(backend):
    response = post_otlp(traces_url(backend), b"\x1f\x8b not really gzip", {**PROTOBUF, "Content-Encoding": "gzip"})
    assert response.status_code == 400


def test_other_paths_and_methods_are_refused(backend):
    assert post_otlp(backend.url("otlp-http", "/v1/metrics"), b"").status_code == 404
    assert post_otlp(traces_url(backend), b"").status_code == 200  # an empty export is valid
    assert requests.get(traces_url(backend), timeout=5).status_code == 405


def test_after_bad_input_the_receiver_still_serves_and_keeps_what_it_accepted(backend):
    first = SpanSpec("route", "FindRoute")
    assert post_otlp(traces_url(backend), export_request([first]).SerializeToString()).status_code == 200
    for body, headers in [
        (b"\x00garbage", PROTOBUF),
        (gzip.compress(b"\0" * (10 * 1024 * 1024)), {**PROTOBUF, "Content-Encoding": "gzip"}),
        (b"[]", {"Content-Type": "application/json"}),
    ]:
        assert post_otlp(traces_url(backend), body, headers).status_code in (400, 413)
    second = SpanSpec("route", "FindRoute")
    assert post_otlp(traces_url(backend), export_request([second]).SerializeToString()).status_code == 200
    stored(backend, first.trace_id.hex(), 1)
    stored(backend, second.trace_id.hex(), 1)
