"""Stored traces → OTLP/JSON ``TracesData``, the body of Jaeger's ``/api/v3`` trace responses.

OTLP/JSON is protobuf's JSON mapping with two changes: trace and span ids are
hex rather than base64, and enums are integers.  Spans of one stored process
(resource + scope) are grouped back under one ResourceSpans, as an SDK sent them.
"""

from __future__ import annotations

import base64
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans

from backend.spans.model import SpanRecord
from backend.spans.otlp import decode_span
from backend.storage.api import Trace


def traces_to_otlp_json(traces: list[Trace]) -> dict[str, Any]:
    resource_spans: list[dict[str, Any]] = []
    for trace in traces:
        groups: dict[bytes, list[dict[str, Any]]] = {}
        for record in sorted(trace.spans, key=lambda record: record.start_ns):
            group = groups.get(record.process_id)
            if group is None:
                group = groups[record.process_id] = []
                resource_spans.append(_resource_spans(trace.processes.get(record.process_id), group))
            group.append(_span(record))
    return {"resourceSpans": resource_spans}


def _resource_spans(blob: bytes | None, spans: list[dict[str, Any]]) -> dict[str, Any]:
    """The stored resource and scope, holding the (still to be filled) list ``spans``."""
    holder = MessageToDict(ResourceSpans.FromString(blob or b""), use_integers_for_enums=True)
    holder.setdefault("resource", {})
    scope_spans = holder.get("scopeSpans") or [{}]
    scope_spans[0].setdefault("scope", {})
    scope_spans[0]["spans"] = spans
    holder["scopeSpans"] = scope_spans[:1]
    return holder


def _span(record: SpanRecord) -> dict[str, Any]:
    span = MessageToDict(decode_span(record)[0], use_integers_for_enums=True)
    for key in ("traceId", "spanId", "parentSpanId"):
        if key in span:
            span[key] = _hex(span[key])
    for link in span.get("links", ()):
        for key in ("traceId", "spanId"):
            if key in link:
                link[key] = _hex(link[key])
    return span


def _hex(base64_text: str) -> str:
    return base64.b64decode(base64_text).hex()
