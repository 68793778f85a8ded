"""GET /api/traces/{id}: each OTLP feature shows up in the JSON exactly where Jaeger puts it."""

from __future__ import annotations

import base64

from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from tests.builders import SpanSpec
from tests.query.conftest import Api

START_NS = 1_706_678_909_209_712_345


def only_trace(api: Api, spec: SpanSpec) -> dict:
    response = api.get(f"/api/traces/{spec.trace_id.hex()}")
    assert response.status_code == 200
    [trace] = response.json["data"]
    return trace


def only_span(api: Api, spec: SpanSpec) -> dict:
    [span] = only_trace(api, spec)["spans"]
    return span


def tags_of(span: dict) -> dict[str, tuple[str, object]]:
    return {tag["key"]: (tag["type"], tag["value"]) for tag in span["tags"]}


def test_the_jaeger_fixture_span_translates_to_jaegers_json(api):
    """otlp2jaeger-in.json → otlp2jaeger-out.json in Jaeger's query service (plus the missing-parent warning)."""
    parent = SpanSpec("telemetrygen", "unseen", span_id=bytes.fromhex("909541b92cf05311"))
    spec = SpanSpec(
        "telemetrygen",
        "okey-dokey-0",
        trace_id=bytes.fromhex("83a9efd15c1c98a977e0711cc93ee28b"),
        span_id=bytes.fromhex("e127af99e3b3e074"),
        parent=parent,
        kind=Span.SPAN_KIND_SERVER,
        start_ns=1706678909209712000,
        duration_ns=123_000,
        attributes={"net.peer.ip": "1.2.3.4", "peer.service": "telemetrygen-client"},
        scope="telemetrygen",
    )
    api.store(spec)

    trace = only_trace(api, spec)

    assert trace == {
        "traceID": "83a9efd15c1c98a977e0711cc93ee28b",
        "spans": [
            {
                "traceID": "83a9efd15c1c98a977e0711cc93ee28b",
                "spanID": "e127af99e3b3e074",
                "operationName": "okey-dokey-0",
                "references": [
                    {"refType": "CHILD_OF", "traceID": "83a9efd15c1c98a977e0711cc93ee28b", "spanID": "909541b92cf05311"}
                ],
                "startTime": 1706678909209712,
                "duration": 123,
                "tags": [
                    {"key": "otel.scope.name", "type": "string", "value": "telemetrygen"},
                    {"key": "net.peer.ip", "type": "string", "value": "1.2.3.4"},
                    {"key": "peer.service", "type": "string", "value": "telemetrygen-client"},
                    {"key": "span.kind", "type": "string", "value": "server"},
                ],
                "logs": [],
                "processID": "p1",
                "warnings": ["parent span 909541b92cf05311 is not in this trace (not received yet, or lost)"],
            }
        ],
        "processes": {"p1": {"serviceName": "telemetrygen", "tags": []}},
        "warnings": None,
    }


def test_a_found_trace_comes_in_jaegers_envelope(api):
    spec = SpanSpec("frontend", "GET /dispatch")
    api.store(spec)

    body = api.get(f"/api/traces/{spec.trace_id.hex()}").json

    assert (body["total"], body["limit"], body["offset"], body["errors"]) == (0, 0, 0, None)
    assert len(body["data"]) == 1


def test_times_are_microseconds_truncated(api):
    spec = SpanSpec("frontend", "op", start_ns=START_NS, duration_ns=2_999)
    api.store(spec)

    span = only_span(api, spec)

    assert (span["startTime"], span["duration"]) == (1_706_678_909_209_712, 2)


def test_every_span_kind_becomes_a_span_kind_tag(api):
    kinds = {
        Span.SPAN_KIND_INTERNAL: "internal",
        Span.SPAN_KIND_SERVER: "server",
        Span.SPAN_KIND_CLIENT: "client",
        Span.SPAN_KIND_PRODUCER: "producer",
        Span.SPAN_KIND_CONSUMER: "consumer",
    }
    for kind, name in kinds.items():
        spec = SpanSpec("frontend", "op", kind=kind)
        api.store(spec)
        assert tags_of(only_span(api, spec))["span.kind"] == ("string", name)


def test_an_unspecified_kind_adds_no_span_kind_tag(api):
    spec = SpanSpec("frontend", "op", kind=Span.SPAN_KIND_UNSPECIFIED)
    api.store(spec)

    assert "span.kind" not in tags_of(only_span(api, spec))


def test_an_error_status_adds_status_code_error_tag_and_description_in_jaegers_order(api):
    spec = SpanSpec(
        "driver", "FindDriverIDs", status_code=Status.STATUS_CODE_ERROR, status_message="redis timeout", scope=""
    )
    api.store(spec)

    assert only_span(api, spec)["tags"] == [
        {"key": "span.kind", "type": "string", "value": "server"},
        {"key": "otel.status_code", "type": "string", "value": "ERROR"},
        {"key": "error", "type": "bool", "value": True},
        {"key": "otel.status_description", "type": "string", "value": "redis timeout"},
    ]


def test_an_ok_status_adds_status_code_ok_and_no_error_tag(api):
    spec = SpanSpec("driver", "op", status_code=Status.STATUS_CODE_OK)
    api.store(spec)

    tags = tags_of(only_span(api, spec))

    assert tags["otel.status_code"] == ("string", "OK")
    assert "error" not in tags


def test_an_unset_status_adds_no_status_tags(api):
    spec = SpanSpec("driver", "op")
    api.store(spec)

    tags = tags_of(only_span(api, spec))

    assert "otel.status_code" not in tags and "error" not in tags


def test_attribute_types_map_to_jaeger_tag_types(api):
    spec = SpanSpec(
        "route",
        "op",
        attributes={
            "text": "hello",
            "flag": True,
            "count": 42,
            "ratio": 0.25,
            "raw": b"\x00\xff",
            "list": ["a", 1, True],
            "big": 2**60,
        },
    )
    api.store(spec)

    tags = tags_of(only_span(api, spec))

    assert tags["text"] == ("string", "hello")
    assert tags["flag"] == ("bool", True)
    assert tags["count"] == ("int64", 42)
    assert tags["ratio"] == ("float64", 0.25)
    assert tags["raw"] == ("binary", base64.b64encode(b"\x00\xff").decode())
    assert tags["list"] == ("string", '["a",1,true]')
    assert tags["big"] == ("int64", str(2**60)), "beyond 2^53 JavaScript would round it, so Jaeger sends text"


def test_the_scope_name_and_version_come_first_as_tags(api):
    spec = SpanSpec("route", "op", scope="opentelemetry.instrumentation.flask", attributes={"a": "b"})
    api.store(spec)

    tags = only_span(api, spec)["tags"]

    assert tags[:2] == [
        {"key": "otel.scope.name", "type": "string", "value": "opentelemetry.instrumentation.flask"},
        {"key": "a", "type": "string", "value": "b"},
    ]


def test_events_become_logs_with_the_event_name_as_first_field(api):
    spec = SpanSpec("driver", "op", start_ns=START_NS, events=[("retry", 5_000, {"attempt": 2})])
    api.store(spec)

    assert only_span(api, spec)["logs"] == [
        {
            "timestamp": (START_NS + 5_000) // 1000,
            "fields": [
                {"key": "event", "type": "string", "value": "retry"},
                {"key": "attempt", "type": "int64", "value": 2},
            ],
        }
    ]


def test_the_parent_is_a_child_of_reference_and_links_are_follows_from_references(api):
    root = SpanSpec("frontend", "root")
    other = SpanSpec("batch", "elsewhere")
    child = root.child("driver", "child", links=[(other.trace_id, other.span_id)])
    api.store(root, child)

    span = only_trace(api, root)["spans"][1]

    assert span["references"] == [
        {"refType": "CHILD_OF", "traceID": root.trace_id.hex(), "spanID": root.span_id.hex()},
        {"refType": "FOLLOWS_FROM", "traceID": other.trace_id.hex(), "spanID": other.span_id.hex()},
    ]


def test_a_root_span_has_no_references_and_no_warnings(api):
    spec = SpanSpec("frontend", "root")
    api.store(spec)

    span = only_span(api, spec)

    assert (span["references"], span["warnings"]) == ([], None)


def test_the_resource_becomes_the_process_without_service_name(api):
    spec = SpanSpec("customer", "op", resource={"host.name": "db-1", "process.pid": 7})
    api.store(spec)

    trace = only_trace(api, spec)

    assert trace["processes"] == {
        "p1": {
            "serviceName": "customer",
            "tags": [
                {"key": "host.name", "type": "string", "value": "db-1"},
                {"key": "process.pid", "type": "int64", "value": 7},
            ],
        }
    }
    assert trace["spans"][0]["processID"] == "p1"


def test_spans_of_one_resource_share_one_process_and_another_resource_gets_the_next(api):
    root = SpanSpec("frontend", "root")
    first = root.child("frontend", "a")
    second = root.child("driver", "b", start_ns=root.start_ns + 2_000)
    api.store(root, first, second)

    trace = only_trace(api, root)

    assert [span["processID"] for span in trace["spans"]] == ["p1", "p1", "p2"]
    assert {key: process["serviceName"] for key, process in trace["processes"].items()} == {
        "p1": "frontend",
        "p2": "driver",
    }


def test_spans_are_sorted_by_start_time(api):
    root = SpanSpec("frontend", "root", start_ns=START_NS)
    late = root.child("driver", "late", start_ns=START_NS + 9_000)
    early = root.child("driver", "early", start_ns=START_NS + 1_000)
    api.store(late, root, early)

    names = [span["operationName"] for span in only_trace(api, root)["spans"]]

    assert names == ["root", "early", "late"]


def test_only_the_span_whose_parent_is_missing_carries_a_warning(api):
    lost = SpanSpec("frontend", "lost")
    orphan = lost.child("driver", "orphan")
    grandchild = orphan.child("route", "grandchild")
    api.store(orphan, grandchild)

    spans = {span["operationName"]: span for span in only_trace(api, orphan)["spans"]}

    assert spans["orphan"]["warnings"] == [
        f"parent span {lost.span_id.hex()} is not in this trace (not received yet, or lost)"
    ]
    assert spans["grandchild"]["warnings"] is None


def test_a_trace_id_with_a_zero_high_half_is_shown_with_16_hex_digits(api):
    spec = SpanSpec("legacy", "op", trace_id=bytes(8) + bytes.fromhex("00000000000000ab"))
    api.store(spec)

    response = api.get("/api/traces/ab")

    assert response.json["data"][0]["traceID"] == "00000000000000ab"
