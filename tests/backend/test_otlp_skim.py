"""Protobuf bodies are parsed as skim types: what is stored must still be exactly what was sent."""

from __future__ import annotations

import pytest
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span

from backend.spans.otlp import decode_span, parse_protobuf, to_batch
from tests.builders import SpanSpec, export_request, new_span_id, new_trace_id


def every_field() -> SpanSpec:
    return SpanSpec(
        "frontend",
        "HTTP GET /dispatch",
        attributes={"text": "é", "number": 7, "ratio": 0.5, "flag": True, "raw": b"\x00\xff", "list": [1, "two"]},
        resource={"host.name": "laptop", "service.version": "1.2"},
        events=[("retry", 10, {"attempt": 2})],
        links=[(new_trace_id(), new_span_id())],
        status_code=2,
        status_message="boom",
    )


def sent_request() -> ExportTraceServiceRequest:
    spec = every_field()
    request = export_request([spec, spec.child("driver", "FindNearest")])
    span = request.resource_spans[0].scope_spans[0].spans[0]
    span.trace_state = "th=8"
    span.flags = 0x301
    span.dropped_attributes_count = 3
    span.dropped_events_count = 4
    span.dropped_links_count = 5
    request.resource_spans[0].schema_url = "https://opentelemetry.io/schemas/1.26.0"
    request.resource_spans[0].scope_spans[0].scope.version = "0.9"
    return request


def test_each_stored_payload_parses_as_the_span_that_was_sent():
    request = sent_request()

    records = to_batch(parse_protobuf(request.SerializeToString())).batch.spans

    sent = [span for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans]
    assert [Span.FromString(record.payload) for record in records] == sent


def test_given_the_body_each_payload_is_the_span_s_bytes_as_they_came():
    request = sent_request()
    body = request.SerializeToString()

    records = to_batch(parse_protobuf(body), None, body).batch.spans

    sent = [span.SerializeToString() for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans]
    assert [record.payload for record in records] == sent


def test_given_the_body_spans_rejected_for_their_ids_leave_the_others_with_their_own_bytes():
    request = sent_request()
    request.resource_spans[0].scope_spans[0].spans[0].span_id = bytes(8)
    body = request.SerializeToString()

    decoded = to_batch(parse_protobuf(body), None, body)

    assert decoded.rejected == 1
    kept = request.resource_spans[1].scope_spans[0].spans[0]
    assert [record.payload for record in decoded.batch.spans] == [kept.SerializeToString()]


def test_the_indexed_fields_and_processes_are_those_of_the_full_types():
    request = sent_request()

    skimmed = to_batch(parse_protobuf(request.SerializeToString())).batch
    full = to_batch(request).batch

    assert [(r.trace_id, r.span_id, r.parent_span_id, r.service, r.name, r.kind, r.start_ns, r.duration_ns,
             r.status_code, r.process_id) for r in skimmed.spans] == [
            (r.trace_id, r.span_id, r.parent_span_id, r.service, r.name, r.kind, r.start_ns, r.duration_ns,
             r.status_code, r.process_id) for r in full.spans]  # fmt: skip
    assert {pid: ResourceSpans.FromString(blob) for pid, blob in skimmed.processes.items()} == {
        pid: ResourceSpans.FromString(blob) for pid, blob in full.processes.items()
    }


def test_a_body_cut_short_is_still_refused():
    body = sent_request().SerializeToString()

    with pytest.raises(ValueError, match="not a valid OTLP protobuf"):
        parse_protobuf(body[:-7])


def test_an_attribute_that_does_not_parse_is_taken_and_read_back_as_indexed_fields_with_a_reason():
    spec = SpanSpec("frontend", "HTTP GET /dispatch", attributes={"customer": "ABCDE"}, status_code=2)
    body = export_request([spec]).SerializeToString().replace(b"ABCDE", b"\xff\xfeCDE")
    with pytest.raises(DecodeError):
        ExportTraceServiceRequest.FromString(body)  # the full types refuse the whole request

    (record,) = to_batch(parse_protobuf(body)).batch.spans
    span, reason = decode_span(record)

    assert (span.trace_id, span.span_id, span.name, span.status.code) == (spec.trace_id, spec.span_id, spec.name, 2)
    assert span.end_time_unix_nano - span.start_time_unix_nano == spec.duration_ns
    assert "could not be decoded" in reason
