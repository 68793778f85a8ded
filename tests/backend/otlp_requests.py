"""Hypothesis strategies for OTLP export requests, and their OTLP/JSON form, shared by the OTLP decoding tests.

Requests hold every kind of attribute value (nested a few levels), events, links, statuses,
flags and dropped counts, in one to three resources with a scope each; ids are mostly of the
right length and sometimes not, so that decoders meet both.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from google.protobuf import json_format
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
UINT64 = st.integers(min_value=0, max_value=2**64 - 1)
UINT32 = st.integers(min_value=0, max_value=2**32 - 1)

scalars = st.one_of(
    st.text(max_size=20).map(lambda text: AnyValue(string_value=text)),
    INT64.map(lambda number: AnyValue(int_value=number)),
    st.floats(allow_nan=False).map(lambda number: AnyValue(double_value=number)),
    st.booleans().map(lambda flag: AnyValue(bool_value=flag)),
    st.binary(max_size=20).map(lambda data: AnyValue(bytes_value=data)),
)
any_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda values: AnyValue(array_value=ArrayValue(values=values))),
        st.dictionaries(st.text(max_size=8), children, max_size=3).map(
            lambda items: AnyValue(
                kvlist_value=KeyValueList(values=[KeyValue(key=k, value=v) for k, v in items.items()])
            )
        ),
    ),
    max_leaves=12,
)
key_values = st.lists(st.builds(KeyValue, key=st.text(max_size=12), value=any_values), max_size=4)


@st.composite
def spans(draw: st.DrawFn) -> Span:
    valid = draw(st.booleans()) or draw(st.booleans())  # mostly valid ids
    trace_id = draw(st.binary(min_size=16, max_size=16) if valid else st.binary(max_size=20))
    span_id = draw(st.binary(min_size=8, max_size=8) if valid else st.binary(max_size=10))
    links = draw(
        st.lists(
            st.builds(
                Span.Link,
                trace_id=st.binary(min_size=16, max_size=16),
                span_id=st.binary(min_size=8, max_size=8),
                trace_state=st.text(max_size=8),
                attributes=key_values,
                flags=UINT32,
            ),
            max_size=2,
        )
    )
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=draw(st.sampled_from([b"", span_id[::-1]])),
        trace_state=draw(st.sampled_from(["", "vendor=value"])),
        flags=draw(UINT32),
        name=draw(st.text(max_size=20)),
        kind=draw(st.sampled_from(Span.SpanKind.values())),
        start_time_unix_nano=draw(UINT64),
        end_time_unix_nano=draw(UINT64),
        attributes=draw(key_values),
        dropped_attributes_count=draw(UINT32),
        events=[Span.Event(time_unix_nano=draw(UINT64), name=draw(st.text(max_size=8)), attributes=draw(key_values))],
        links=links,
        status=Status(code=draw(st.sampled_from(Status.StatusCode.values())), message=draw(st.text(max_size=8))),
    )


@st.composite
def export_requests(draw: st.DrawFn) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    sent = draw(st.lists(spans(), max_size=6, unique_by=lambda span: (span.trace_id, span.span_id)))
    groups = draw(st.integers(min_value=1, max_value=3))
    for group in range(groups):
        resource_spans = request.resource_spans.add(schema_url=draw(st.sampled_from(["", "https://x/1.0"])))
        resource_spans.resource.attributes.extend(draw(key_values))
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.name = draw(st.text(max_size=8))
        scope_spans.scope.version = draw(st.sampled_from(["", "1.2.3"]))
        scope_spans.spans.extend(sent[group::groups])
    return request


def otlp_json_document(request: ExportTraceServiceRequest, integer_enums: bool = False) -> dict[str, Any]:
    """OTLP/JSON as a document: protobuf's JSON mapping with the ids of spans and links in hex."""
    document = json_format.MessageToDict(request, use_integers_for_enums=integer_enums)
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for holder in (span, *span.get("links", [])):
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if key in holder:
                            holder[key] = base64.b64decode(holder[key]).hex()
    return document


def otlp_json(request: ExportTraceServiceRequest) -> bytes:
    """OTLP/JSON: protobuf's JSON mapping with ids in hex."""
    return json.dumps(otlp_json_document(request)).encode()
