"""Skim types: OTLP trace messages that declare only what ingest reads.

``SkimRequest`` has the shape of ``ExportTraceServiceRequest`` down to the
spans, where only the fields storage indexes are declared (ids, name, kind,
times, status); the resource and scope are the real messages.  What a skim
span leaves undeclared (attributes, events, links, trace state, flags,
dropped counts) stays in upb as unknown-field bytes, which
``SerializeToString`` writes back unchanged after the declared fields: the
result parses as the same ``opentelemetry.proto.trace.v1.Span``.  Parsing a
request this way and re-serializing each span costs about half of doing so
with the full types (0.17 + 0.38 µs per span instead of 0.37 + 0.59 on the
ingest benchmark's spans), which is what lets ingest keep pace with merely
decoding and walking the same requests.  Cheaper still, ingest takes each
span's bytes from a second parse of the body as ``SpanBytesRequest`` (spans
as raw bytes) and serializes again only when spans were taken out of it.

The price: parsing as skim types does not check the insides of attributes,
events and links (a nested message cut short or nested past protobuf's depth
limit, a string that is not UTF-8).  The receivers check them with one parse
of the whole body as the full types (``backend.spans.otlp.drop_undecodable``) and
reject, as a partial success, each span that would not decode.  Everything
that reads a stored span still goes through ``backend.spans.otlp.decode_span``,
which turns a payload that does not parse (stored by an older version, or by
a path that skips the check) into a span of its indexed fields and says why.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pool, message_factory
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from backend.spans.proto_tables import OPTIONAL, REPEATED, Field, FieldType, file_of

_PACKAGE = "hotrod_backend.skim"
_T = FieldType
# numbers and types as in OTLP's trace.proto; the real Status, InstrumentationScope and Resource are used as they are
_MESSAGES: dict[str, list[Field]] = {
    "Span": [
        ("trace_id", 1, _T.TYPE_BYTES, OPTIONAL, ""),
        ("span_id", 2, _T.TYPE_BYTES, OPTIONAL, ""),
        ("parent_span_id", 4, _T.TYPE_BYTES, OPTIONAL, ""),
        ("name", 5, _T.TYPE_STRING, OPTIONAL, ""),
        ("kind", 6, _T.TYPE_INT32, OPTIONAL, ""),
        ("start_time_unix_nano", 7, _T.TYPE_FIXED64, OPTIONAL, ""),
        ("end_time_unix_nano", 8, _T.TYPE_FIXED64, OPTIONAL, ""),
        ("status", 15, _T.TYPE_MESSAGE, OPTIONAL, ".opentelemetry.proto.trace.v1.Status"),
    ],
    "ScopeSpans": [
        ("scope", 1, _T.TYPE_MESSAGE, OPTIONAL, ".opentelemetry.proto.common.v1.InstrumentationScope"),
        ("spans", 2, _T.TYPE_MESSAGE, REPEATED, f".{_PACKAGE}.Span"),
        ("schema_url", 3, _T.TYPE_STRING, OPTIONAL, ""),
    ],
    "ResourceSpans": [
        ("resource", 1, _T.TYPE_MESSAGE, OPTIONAL, ".opentelemetry.proto.resource.v1.Resource"),
        ("scope_spans", 2, _T.TYPE_MESSAGE, REPEATED, f".{_PACKAGE}.ScopeSpans"),
        ("schema_url", 3, _T.TYPE_STRING, OPTIONAL, ""),
    ],
    "ExportTraceServiceRequest": [
        ("resource_spans", 1, _T.TYPE_MESSAGE, REPEATED, f".{_PACKAGE}.ResourceSpans"),
    ],
    "SpanBytes": [("spans", 2, _T.TYPE_BYTES, REPEATED, "")],  # a ScopeSpans
    "ResourceSpanBytes": [("scope_spans", 2, _T.TYPE_MESSAGE, REPEATED, f".{_PACKAGE}.SpanBytes")],
    "SpanBytesRequest": [("resource_spans", 1, _T.TYPE_MESSAGE, REPEATED, f".{_PACKAGE}.ResourceSpanBytes")],
}


def _skim_class(name: str) -> type:
    pool = descriptor_pool.Default()  # where the real OTLP types it refers to live
    try:
        descriptor = pool.FindMessageTypeByName(f"{_PACKAGE}.{name}")
    except KeyError:
        dependencies = [module.DESCRIPTOR.name for module in (common_pb2, resource_pb2, trace_pb2)]
        pool.Add(file_of("hotrod_backend/skim.proto", _PACKAGE, _MESSAGES, dependencies))
        descriptor = pool.FindMessageTypeByName(f"{_PACKAGE}.{name}")
    return message_factory.GetMessageClass(descriptor)


SkimRequest = _skim_class("ExportTraceServiceRequest")
SkimSpan: Any = _skim_class("Span")  # one stored span's payload, read for its indexed fields only
# The same request with each span as its bytes: ingest stores them as they came rather than serializing the
# skim span again (0.29 against 0.64 us a span on the ClickHouse benchmark's tracegen requests, load ~10).
SpanBytesRequest: Any = _skim_class("SpanBytesRequest")
