"""One trace reported by three services over three protocols reads back as one trace."""

from __future__ import annotations

import requests
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.builders import SpanSpec, export_request
from tests.receivers import jaeger_client as client
from tests.receivers.conftest import Backend
from tests.support import wait_for


def signed(span_id: bytes) -> int:
    return client.signed(int.from_bytes(span_id, "big"))


def test_otlp_jaeger_and_zipkin_spans_of_one_trace_read_back_whole_with_parents(backend: Backend):
    root = SpanSpec("mixed-frontend", "GET /dispatch", kind=Span.SPAN_KIND_SERVER, resource={"host.name": "box-1"})
    otlp = requests.post(
        backend.url("otlp/http", "/v1/traces"),
        data=export_request([root]).SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
        timeout=5,
    )
    trace = (signed(root.trace_id[:8]), signed(root.trace_id[8:]))
    driver = client.span(trace, "FindNearest", parent=signed(root.span_id), tags={"span.kind": "server"})
    client.send_udp(
        backend.address("jaeger/thrift_compact"), client.datagram(client.batch("mixed-driver", [driver]), "compact")
    )
    redis_span = {
        "traceId": root.trace_id.hex(),
        "parentId": f"{driver.spanId & (2**64 - 1):016x}",
        "id": "00000000000000aa",
        "kind": "CLIENT",
        "name": "GetDriver",
        "timestamp": driver.startTime + 10,
        "duration": 200,
        "localEndpoint": {"serviceName": "mixed-redis"},
    }
    zipkin = requests.post(backend.url("zipkin", "/api/v2/spans"), json=[redis_span], timeout=5)
    assert (otlp.status_code, zipkin.status_code) == (200, 202)

    found: dict = {}

    def whole() -> bool:
        found["trace"] = backend.trace(root.trace_id.hex())
        return found["trace"] is not None and len(found["trace"]["spans"]) == 3

    wait_for(whole, timeout=10, what="all three spans of the mixed trace")

    trace_json = found["trace"]
    service_of = {s["spanID"]: trace_json["processes"][s["processID"]]["serviceName"] for s in trace_json["spans"]}
    parent_of = {
        s["spanID"]: next((r["spanID"] for r in s["references"] if r["refType"] == "CHILD_OF"), None)
        for s in trace_json["spans"]
    }
    root_id, driver_id = root.span_id.hex(), f"{driver.spanId & (2**64 - 1):016x}"
    assert service_of == {root_id: "mixed-frontend", driver_id: "mixed-driver", "00000000000000aa": "mixed-redis"}
    assert parent_of == {root_id: None, driver_id: root_id, "00000000000000aa": driver_id}
