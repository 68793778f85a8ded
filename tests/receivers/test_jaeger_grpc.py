"""Jaeger's collector gRPC API: PostSpans with the api_v2 protobuf model, over a real grpcio channel."""

from __future__ import annotations

import os
import time

import grpc
import pytest

from backend.receivers.idl.jaeger_proto import SERVICE, messages
from tests.receivers.conftest import Backend
from tests.support import wait_for


@pytest.fixture(scope="module")
def post_spans(backend: Backend):  # noqa: ANN201 - a grpcio callable
    channel = grpc.insecure_channel(backend.endpoints["jaeger/grpc"])
    yield channel.unary_unary(
        f"/{SERVICE}/PostSpans",
        request_serializer=lambda message: message.SerializeToString(),
        response_deserializer=messages()["PostSpansResponse"].FromString,
    )
    channel.close()


def request_with(service: str, trace_id: bytes, parent_id: bytes, span_id: bytes) -> object:
    request = messages()["PostSpansRequest"]()
    request.batch.process.service_name = service
    request.batch.process.tags.add(key="hostname", v_str="box-3")
    span = request.batch.spans.add(trace_id=trace_id, span_id=span_id, operation_name="FindNearest")
    span.start_time.FromNanoseconds(time.time_ns())
    span.duration.FromMicroseconds(1500)
    span.references.add(trace_id=trace_id, span_id=parent_id, ref_type=0)
    span.tags.add(key="span.kind", v_str="server")
    span.tags.add(key="retries", v_type=2, v_int64=2)
    span.logs.add(fields=[messages()["KeyValue"](key="event", v_str="found")]).timestamp.FromNanoseconds(time.time_ns())
    return request


def test_post_spans_stores_the_span_with_its_parent_tags_and_process(backend: Backend, post_spans):  # noqa: ANN001
    trace_id, parent_id, span_id = os.urandom(16), os.urandom(8), os.urandom(8)

    post_spans(request_with("grpc-driver", trace_id, parent_id, span_id), timeout=5)

    wait_for(lambda: backend.trace(trace_id.hex()) is not None, timeout=10, what="the gRPC span stored")
    trace = backend.trace(trace_id.hex())
    (span,) = trace["spans"]
    tags = {t["key"]: t["value"] for t in span["tags"]}
    assert span["spanID"] == span_id.hex()
    assert span["references"] == [{"refType": "CHILD_OF", "traceID": trace_id.hex(), "spanID": parent_id.hex()}]
    assert (tags["span.kind"], tags["retries"], span["duration"]) == ("server", 2, 1500)
    assert span["logs"][0]["fields"][0]["value"] == "found"
    assert trace["processes"][span["processID"]]["serviceName"] == "grpc-driver"


def test_a_short_trace_id_is_invalid_argument_with_the_reason(post_spans):  # noqa: ANN001
    with pytest.raises(grpc.RpcError) as failure:
        post_spans(request_with("grpc-bad", os.urandom(8), os.urandom(8), os.urandom(8)), timeout=5)

    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "trace_id must be 16 bytes" in failure.value.details()
