"""Zipkin v1 on /api/v1/spans: JSON as Zipkin documents it, and Thrift written by Apache Thrift's own encoder.

The Thrift body is built with the ``thrift`` package's TBinaryProtocol, field
by field with zipkinCore.thrift's ids and types, not with the receiver's
thriftpy2 IDL: the two agree only if the wire does.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.Thrift import TType
from thrift.transport.TTransport import TMemoryBuffer

from tests.receivers.conftest import Backend
from tests.receivers.test_zipkin import stored, tags_of

FRONTEND = {"serviceName": "v1-frontend", "ipv4": "10.0.0.1", "port": 8080}
DRIVER = {"serviceName": "v1-driver", "ipv4": "10.0.0.2", "port": 8082}


def url(backend: Backend) -> str:
    return backend.url("zipkin", "/api/v1/spans")


def ids() -> tuple[str, str, str]:
    return os.urandom(16).hex(), os.urandom(8).hex(), os.urandom(8).hex()


def v1_trace(trace_id: str, root_id: str, child_id: str, now_us: int) -> list[dict]:
    """A server root and its client call, as a v1 instrumentation reports them (core annotations, no kind)."""
    return [
        {
            "traceId": trace_id,
            "id": root_id,
            "name": "get /dispatch",
            "timestamp": now_us,
            "duration": 5000,
            "annotations": [
                {"timestamp": now_us, "value": "sr", "endpoint": FRONTEND},
                {"timestamp": now_us + 1000, "value": "cache miss", "endpoint": FRONTEND},
                {"timestamp": now_us + 5000, "value": "ss", "endpoint": FRONTEND},
            ],
            "binaryAnnotations": [
                {"key": "http.path", "value": "/dispatch", "endpoint": FRONTEND},
                {"key": "ca", "value": True, "endpoint": {"serviceName": "browser", "ipv4": "10.0.0.9"}},
            ],
        },
        {
            "traceId": trace_id,
            "id": child_id,
            "parentId": root_id,
            "name": "find",
            "annotations": [
                {"timestamp": now_us + 1000, "value": "cs", "endpoint": FRONTEND},
                {"timestamp": now_us + 3000, "value": "cr", "endpoint": FRONTEND},
            ],
            "binaryAnnotations": [
                {"key": "sa", "value": True, "endpoint": DRIVER},
                {"key": "error", "value": "timeout", "endpoint": FRONTEND},
            ],
        },
    ]


def by_name(trace: dict) -> dict[str, dict]:
    return {span["operationName"]: span for span in trace["spans"]}


def test_v1_json_spans_are_stored_with_kinds_times_endpoints_and_events(backend: Backend):
    trace_id, root_id, child_id = ids()
    now_us = time.time_ns() // 1000

    response = requests.post(url(backend), json=v1_trace(trace_id, root_id, child_id, now_us), timeout=5)

    assert response.status_code == 202, response.text
    trace = stored(backend, trace_id, 2)
    root, child = by_name(trace)["get /dispatch"], by_name(trace)["find"]
    assert trace["processes"][root["processID"]]["serviceName"] == "v1-frontend"
    assert tags_of(root)["span.kind"] == "server" and tags_of(root)["http.path"] == "/dispatch"
    assert [log["fields"][0]["value"] for log in root["logs"]] == ["cache miss"]
    assert (child["startTime"], child["duration"]) == (now_us + 1000, 2000)  # from cs and cr
    child_tags = tags_of(child)
    assert (child_tags["span.kind"], child_tags["peer.service"], child_tags["error"]) == ("client", "v1-driver", True)
    assert child["references"][0]["spanID"] == root_id


def test_a_shared_v1_span_is_kept_once_as_its_client_side(backend: Backend):
    trace_id, span_id, _ = ids()
    now_us = time.time_ns() // 1000
    shared = {
        "traceId": trace_id,
        "id": span_id,
        "name": "rpc",
        "annotations": [
            {"timestamp": now_us, "value": "cs", "endpoint": FRONTEND},
            {"timestamp": now_us + 100, "value": "sr", "endpoint": DRIVER},
            {"timestamp": now_us + 900, "value": "ss", "endpoint": DRIVER},
            {"timestamp": now_us + 1000, "value": "cr", "endpoint": FRONTEND},
        ],
    }

    assert requests.post(url(backend), json=[shared], timeout=5).status_code == 202

    [span] = stored(backend, trace_id, 1)["spans"]
    assert (tags_of(span)["span.kind"], tags_of(span)["peer.service"], span["duration"]) == (
        "client",
        "v1-driver",
        1000,
    )


def write_struct(protocol: TBinaryProtocol, name: str, fields: list[tuple[str, int, int, Any]]) -> None:
    """A struct of (name, type, id, value) fields: bytes are written as binary, a callable writes its own value."""
    writers = {TType.I16: protocol.writeI16, TType.I32: protocol.writeI32, TType.I64: protocol.writeI64}
    protocol.writeStructBegin(name)
    for field_name, field_type, field_id, value in fields:
        protocol.writeFieldBegin(field_name, field_type, field_id)
        if callable(value):
            value(protocol)
        elif isinstance(value, bytes):
            protocol.writeBinary(value)
        elif isinstance(value, str):
            protocol.writeString(value)
        else:
            writers[field_type](value)
    protocol.writeFieldStop()
    protocol.writeStructEnd()


def endpoint(service: str, ipv4: int, port: int) -> Callable[[TBinaryProtocol], None]:
    fields = [("ipv4", TType.I32, 1, ipv4), ("port", TType.I16, 2, port), ("service_name", TType.STRING, 3, service)]
    return lambda protocol: write_struct(protocol, "Endpoint", fields)


def struct_list(name: str, items: list[list[tuple[str, int, int, Any]]]) -> Callable[[TBinaryProtocol], None]:
    def write(protocol: TBinaryProtocol) -> None:
        protocol.writeListBegin(TType.STRUCT, len(items))
        for fields in items:
            write_struct(protocol, name, fields)
        protocol.writeListEnd()

    return write


def thrift_body(trace_high: int, trace_low: int, span_id: int, now_us: int) -> bytes:
    """One v1 client span as a binary-protocol list<Span>, the way zipkinCore.thrift lays it out."""
    client = endpoint("v1-thrift", 0x0A000001, 9000)
    annotations = [
        [
            ("timestamp", TType.I64, 1, now_us + offset),
            ("value", TType.STRING, 2, core),
            ("host", TType.STRUCT, 3, client),
        ]
        for offset, core in ((0, "cs"), (700, "cr"))
    ]
    server = ("host", TType.STRUCT, 4, endpoint("v1-server", 0x0A000002, 9001))
    binary_annotations = [
        [("key", TType.STRING, 1, "retries"), ("value", TType.STRING, 2, struct.pack(">i", 3)),
         ("annotation_type", TType.I32, 3, 3)],
        [("key", TType.STRING, 1, "sa"), ("value", TType.STRING, 2, b"\x01"), ("annotation_type", TType.I32, 3, 0),
         server],
    ]  # fmt: skip
    span = [
        ("trace_id", TType.I64, 1, trace_low),
        ("name", TType.STRING, 3, "thrift call"),
        ("id", TType.I64, 4, span_id),
        ("annotations", TType.LIST, 6, struct_list("Annotation", annotations)),
        ("binary_annotations", TType.LIST, 8, struct_list("BinaryAnnotation", binary_annotations)),
        ("trace_id_high", TType.I64, 12, trace_high),
    ]
    buffer = TMemoryBuffer()
    struct_list("Span", [span])(TBinaryProtocol(buffer))
    return buffer.getvalue()


def test_v1_thrift_spans_are_stored(backend: Backend):
    high, low, span_id = (int.from_bytes(os.urandom(8), "big", signed=True) for _ in range(3))
    now_us = time.time_ns() // 1000
    body = thrift_body(high, low, span_id, now_us)

    response = requests.post(url(backend), data=body, headers={"Content-Type": "application/x-thrift"}, timeout=5)

    assert response.status_code == 202, response.text
    trace_hex = f"{high & (2**64 - 1):016x}{low & (2**64 - 1):016x}"
    [span] = stored(backend, trace_hex, 1)["spans"]
    tags = tags_of(span)
    assert (span["spanID"], span["duration"]) == (f"{span_id & (2**64 - 1):016x}", 700)
    assert (tags["span.kind"], tags["retries"], tags["peer.service"]) == ("client", "3", "v1-server")
    assert tags["net.peer.ip"] == "10.0.0.2"


def test_a_gzipped_v1_json_body_is_stored(backend: Backend):
    trace_id, root_id, child_id = ids()
    body = gzip.compress(json.dumps(v1_trace(trace_id, root_id, child_id, time.time_ns() // 1000)).encode())

    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    assert requests.post(url(backend), data=body, headers=headers, timeout=5).status_code == 202
    stored(backend, trace_id, 2)


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"{}", "application/json", "JSON array of Zipkin v1 spans"),
        (b"[" * 50_000, "application/json", "not valid JSON"),
        (b'[{"traceId": "xyz", "id": "0000000000000001", "annotations": "no"}]', "application/json", "annotations"),
        (b"\x0c\x7f\xff\xff\xff", "application/x-thrift", "not a valid Thrift list"),
        (b"\x08\x00\x00\x00\x01", "application/x-thrift", "list of Zipkin spans"),
    ],
)
def test_a_malformed_v1_body_is_answered_400_with_the_reason(backend: Backend, body, content_type, reason):
    response = requests.post(url(backend), data=body, headers={"Content-Type": content_type}, timeout=5)

    assert response.status_code == 400
    assert reason in response.text


def test_other_paths_are_answered_404_naming_both_apis(backend: Backend):
    response = requests.post(backend.url("zipkin", "/api/v3/spans"), json=[], timeout=5)

    assert response.status_code == 404
    assert "/api/v2/spans and /api/v1/spans" in response.text
