"""Jaeger gRPC PostSpans with messages compiled by protoc from jaeger-idl's api_v2 model and collector protos.

The receiver builds its types from tables (``backend/receivers/idl/jaeger_proto.py``);
the client here uses protoc's output of the published message layout instead,
so a wrong field number or type on either side fails.
"""

from __future__ import annotations

import os
import time
from typing import Any

import grpc
import pytest

from tests.receivers.conftest import Backend
from tests.receivers.test_jaeger_thrift import tags_of
from tests.support import compile_proto, wait_for

API_V2 = """
syntax = "proto3";
package jaeger.api_v2;
import "google/protobuf/timestamp.proto";
import "google/protobuf/duration.proto";

enum ValueType { STRING = 0; BOOL = 1; INT64 = 2; FLOAT64 = 3; BINARY = 4; }
message KeyValue {
  string key = 1; ValueType v_type = 2; string v_str = 3; bool v_bool = 4;
  int64 v_int64 = 5; double v_float64 = 6; bytes v_binary = 7;
}
message Log { google.protobuf.Timestamp timestamp = 1; repeated KeyValue fields = 2; }
enum SpanRefType { CHILD_OF = 0; FOLLOWS_FROM = 1; }
message SpanRef { bytes trace_id = 1; bytes span_id = 2; SpanRefType ref_type = 3; }
message Process { string service_name = 1; repeated KeyValue tags = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string operation_name = 3; repeated SpanRef references = 4;
  uint32 flags = 5; google.protobuf.Timestamp start_time = 6; google.protobuf.Duration duration = 7;
  repeated KeyValue tags = 8; repeated Log logs = 9; Process process = 10; string process_id = 11;
  repeated string warnings = 12;
}
message Batch { repeated Span spans = 1; Process process = 2; }
message PostSpansRequest { Batch batch = 1; }
message PostSpansResponse {}
"""


@pytest.fixture(scope="module")
def pb2(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return compile_proto(API_V2, "jaeger_api_v2", tmp_path_factory.mktemp("proto"))


def test_a_batch_from_protoc_messages_is_stored_whole(backend: Backend, pb2: Any):
    trace_id, root_id, child_id = os.urandom(16), os.urandom(8), os.urandom(8)
    now = time.time_ns()
    request = pb2.PostSpansRequest()
    request.batch.process.service_name = "protoc-client"
    request.batch.process.tags.add(key="hostname", v_str="box-7")
    root = request.batch.spans.add(trace_id=trace_id, span_id=root_id, operation_name="GET /dispatch")
    root.start_time.FromNanoseconds(now)
    root.duration.FromMicroseconds(4000)
    root.tags.add(key="span.kind", v_str="server")
    child = request.batch.spans.add(trace_id=trace_id, span_id=child_id, operation_name="FindNearest")
    child.start_time.FromNanoseconds(now + 1000)
    child.duration.FromMicroseconds(1500)
    child.references.add(trace_id=trace_id, span_id=root_id, ref_type=pb2.CHILD_OF)
    child.tags.add(key="retries", v_type=pb2.INT64, v_int64=2)
    child.tags.add(key="ratio", v_type=pb2.FLOAT64, v_float64=0.5)
    child.logs.add(fields=[pb2.KeyValue(key="event", v_str="found")]).timestamp.FromNanoseconds(now + 2000)

    with grpc.insecure_channel(backend.endpoints["jaeger/grpc"]) as channel:
        post = channel.unary_unary(
            "/jaeger.api_v2.CollectorService/PostSpans",
            request_serializer=pb2.PostSpansRequest.SerializeToString,
            response_deserializer=pb2.PostSpansResponse.FromString,
        )
        post(request, timeout=5)

    trace = wait_for(lambda: backend.trace(trace_id.hex()), timeout=10, what="the posted trace")
    spans = {span["operationName"]: span for span in trace["spans"]}
    found = spans["FindNearest"]
    assert trace["processes"][found["processID"]]["serviceName"] == "protoc-client"
    assert (tags_of(found)["retries"], tags_of(found)["ratio"]) == (2, 0.5)
    assert found["references"][0]["spanID"] == root_id.hex()
    assert found["logs"][0]["fields"][0]["value"] == "found"
    assert (found["startTime"], found["duration"]) == ((now + 1000) // 1000, 1500)
