"""OTLP/gRPC ingest: the SDK's gRPC exporter is served; garbage is INVALID_ARGUMENT and does no harm."""

from __future__ import annotations

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.backend.clients import grpc_export, sdk_spans, span_count, trace_hex
from tests.builders import SpanSpec, export_request
from tests.support import wait_for


@pytest.fixture(scope="module")
def backend(module_backends):
    return module_backends("--storage", "memory", "--set", "receivers.otlp.protocols.grpc.max_recv_msg_size_mib=1")


def test_spans_from_the_sdk_grpc_exporter_become_queryable(backend):
    spans = sdk_spans("driver", children=2)
    exporter = OTLPSpanExporter(endpoint=backend.grpc_target, insecure=True)
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    exporter.shutdown()
    wait_for(lambda: span_count(backend.url("query"), trace_hex(spans)) == 3, timeout=10, what="3 spans stored")


def test_garbage_is_invalid_argument(backend):
    with pytest.raises(grpc.RpcError) as caught:
        grpc_export(backend.grpc_target, b"\xff\xfe definitely not protobuf")
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "protobuf" in caught.value.details()


def test_invalid_ids_are_a_partial_success(backend):
    good = SpanSpec("route", "FindRoute")
    bad = SpanSpec("route", "bad", trace_id=b"short")
    answer = ExportTraceServiceResponse.FromString(
        grpc_export(backend.grpc_target, export_request([good, bad]).SerializeToString())
    )
    assert answer.partial_success.rejected_spans == 1
    wait_for(lambda: span_count(backend.url("query"), good.trace_id.hex()) == 1, timeout=10, what="the good span")


def test_a_message_over_the_limit_is_refused_and_the_server_keeps_serving(backend):
    big = SpanSpec("frontend", "big", attributes={"blob": "x" * (2 * 1024 * 1024)})
    with pytest.raises(grpc.RpcError) as caught:
        grpc_export(backend.grpc_target, export_request([big]).SerializeToString())
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    after = SpanSpec("frontend", "after")
    grpc_export(backend.grpc_target, export_request([after]).SerializeToString())
    wait_for(lambda: span_count(backend.url("query"), after.trace_id.hex()) == 1, timeout=10, what="span after")
