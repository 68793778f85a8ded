"""Nesting of any depth in OTLP is a 400 or a partial success naming the spans, never a 500 or a span stored bare."""

from __future__ import annotations

import json

import grpc
import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from backend.receivers.zipkin.translate import spans_from_json
from backend.spans.otlp import InvalidRequest, parse_protobuf
from backend.spans.wire import varint
from tests.backend.clients import PROTOBUF, grpc_export, post_otlp, query_trace, span_count
from tests.builders import SpanSpec, export_request
from tests.support import wait_for

DEEP = 10_000
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def backend(module_backends):
    return module_backends("--storage", "memory")


def nested_any_value(depth: int) -> bytes:
    """An AnyValue holding an array holding an AnyValue ... ``depth`` times, as protobuf bytes, built inside out.

    Written by hand: the protobuf runtime itself refuses to build or serialize such a message.
    """
    inner = b"\x0a\x01x"  # AnyValue{string_value: "x"}
    prefixes = []
    size = len(inner)
    for _ in range(depth):
        array_size = 1 + len(varint(size)) + size  # ArrayValue{values: [that]}
        prefixes.append(b"\x2a" + varint(array_size) + b"\x0a" + varint(size))  # AnyValue{array_value: ...}
        size = 1 + len(varint(array_size)) + array_size
    return b"".join(reversed(prefixes)) + inner


def with_nested_attribute(specs: list[SpanSpec], depth: int, span_index: int = 0) -> bytes:
    """The export request of ``specs`` with a ``deep`` attribute nested ``depth`` levels added to one span."""
    request = parse_protobuf(export_request(specs).SerializeToString())  # skim types: attributes stay bytes
    spans = [span for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans]
    value = nested_any_value(depth)
    key_value = b"\x0a\x04deep\x12" + varint(len(value)) + value  # KeyValue{key: "deep", value: ...}
    spans[span_index].MergeFromString(b"\x4a" + varint(len(key_value)) + key_value)  # Span.attributes (9)
    return request.SerializeToString()


def nested_json_attribute(depth: int) -> bytes:
    """OTLP/JSON with an attribute value nested ``depth`` AnyValue levels (three JSON levels each)."""
    span = SpanSpec("frontend", "deep-json")
    value = '{"arrayValue":{"values":[' * depth + '{"stringValue":"x"}' + "]}}" * depth
    span_json = (
        f'{{"traceId":"{span.trace_id.hex()}","spanId":"{span.span_id.hex()}","name":"deep",'
        f'"startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[{{"key":"deep","value":{value}}}]}}'
    )
    return f'{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{span_json}]}}]}}]}}'.encode()


def still_serving(backend) -> None:  # noqa: ANN001 - BackendProcess
    span = SpanSpec("frontend", "after")
    assert post_otlp(backend.url("otlp-http", "/v1/traces"), export_request([span]).SerializeToString()).ok
    wait_for(lambda: span_count(backend.url("query"), span.trace_id.hex()) == 1, timeout=10, what="span stored")


def test_json_nested_10000_deep_in_an_attribute_is_a_400(backend):
    response = post_otlp(backend.url("otlp-http", "/v1/traces"), nested_json_attribute(DEEP), JSON)
    assert response.status_code == 400
    assert "deeper" in response.json()["message"]
    still_serving(backend)


def test_json_nested_10000_deep_in_the_document_is_a_400(backend):
    response = post_otlp(backend.url("otlp-http", "/v1/traces"), b"[" * DEEP + b"]" * DEEP, JSON)
    assert response.status_code == 400
    still_serving(backend)


def test_json_nested_past_the_protobuf_depth_is_a_400_not_a_bare_span(backend):
    response = post_otlp(backend.url("otlp-http", "/v1/traces"), nested_json_attribute(98), JSON)
    assert response.status_code == 400
    assert "too deep" in response.json()["message"].lower()


def test_an_attribute_nested_10000_deep_over_http_protobuf_rejects_that_span_by_id(backend):
    deep, sibling = SpanSpec("frontend", "deep"), SpanSpec("driver", "sibling")
    response = post_otlp(backend.url("otlp-http", "/v1/traces"), with_nested_attribute([deep, sibling], DEEP))

    assert response.status_code == 200
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 1
    assert f"{deep.trace_id.hex()}/{deep.span_id.hex()}" in answer.partial_success.error_message
    wait_for(lambda: span_count(backend.url("query"), sibling.trace_id.hex()) == 1, timeout=10, what="sibling")
    assert query_trace(backend.url("query"), deep.trace_id.hex()) is None
    still_serving(backend)


def test_an_attribute_nested_10000_deep_over_grpc_rejects_that_span_by_id(backend):
    deep, sibling = SpanSpec("frontend", "deep"), SpanSpec("driver", "sibling")
    answer = ExportTraceServiceResponse.FromString(
        grpc_export(backend.grpc_target, with_nested_attribute([deep, sibling], DEEP))
    )

    assert answer.partial_success.rejected_spans == 1
    assert f"{deep.trace_id.hex()}/{deep.span_id.hex()}" in answer.partial_success.error_message
    wait_for(lambda: span_count(backend.url("query"), sibling.trace_id.hex()) == 1, timeout=10, what="sibling")
    assert query_trace(backend.url("query"), deep.trace_id.hex()) is None


def test_an_attribute_nested_within_the_depth_is_stored_and_read_back_whole(backend):
    span = SpanSpec("frontend", "nested-ok")
    response = post_otlp(
        backend.url("otlp-http", "/v1/traces"), with_nested_attribute([span], 45)
    )  # 2 messages a level: 93 of 100

    assert ExportTraceServiceResponse.FromString(response.content).partial_success.rejected_spans == 0
    trace = wait_for(lambda: query_trace(backend.url("query"), span.trace_id.hex()), timeout=10, what="stored")
    (stored,) = trace["spans"]
    assert stored["warnings"] is None
    assert "deep" in {tag["key"] for tag in stored["tags"]}


def test_resource_attributes_nested_10000_deep_are_a_400(backend):
    value = nested_any_value(DEEP)
    key_value = b"\x0a\x04deep\x12" + varint(len(value)) + value
    resource = b"\x0a" + varint(len(key_value)) + key_value  # Resource.attributes (1)
    resource_spans = b"\x0a" + varint(len(resource)) + resource  # ResourceSpans.resource (1)
    body = b"\x0a" + varint(len(resource_spans)) + resource_spans  # ExportTraceServiceRequest.resource_spans (1)

    response = post_otlp(backend.url("otlp-http", "/v1/traces"), body, PROTOBUF)
    assert response.status_code == 400
    assert Status.FromString(response.content).message
    with pytest.raises(grpc.RpcError) as refused:
        grpc_export(backend.grpc_target, body)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_zipkin_json_nested_10000_deep_is_invalid_not_a_crash():
    with pytest.raises(InvalidRequest):
        spans_from_json(json.dumps([{"tags": {}}]).encode()[:-1] + b"[" * DEEP + b"]" * DEEP + b"]")
