"""Stored OTLP spans → the JSON trace the Jaeger UI reads (``internal/uimodel`` in Jaeger).

The mapping is the OpenTelemetry collector's OTLP → Jaeger translation, as
Jaeger v2 serves it: scope → ``otel.scope.name``/``otel.scope.version`` tags
first, then the span's attributes, then ``span.kind``, ``otel.status_code``,
``error=true`` on ERROR, ``otel.status_description`` and ``w3c.tracestate``;
the parent → a ``CHILD_OF`` reference, links → ``FOLLOWS_FROM`` ones; events →
logs whose first field is ``event`` (the event name); the resource → the
process (``service.name`` → ``serviceName``, the rest as tags).  Processes are
numbered ``p1``, ``p2``… in order of first use, one per distinct resource.

A trace can hold thousands of spans, so each payload is decoded exactly once,
each process once per trace, and the spans' own indexed fields (name, times)
are taken from the record instead of the protobuf.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span

from backend.spans.attributes import plain
from backend.spans.model import SpanRecord
from backend.spans.otlp import decode_span
from backend.storage.api import Trace

_JS_MAX_SAFE_INTEGER = 2**53 - 1
_KIND_TAG_VALUES = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
_STATUS_CODE_NAMES = {1: "OK", 2: "ERROR"}
_REF_TYPE_ATTRIBUTE = "opentracing.ref_type"
_ZERO_HALF = bytes(8)


def trace_to_jaeger(trace: Trace) -> dict[str, Any]:
    """One trace in the UI's shape; spans sorted by start time."""
    records = sorted(trace.spans, key=_start_then_id)
    present = {record.span_id for record in records}
    processes = _Processes(trace.processes)
    spans = [_span(record, processes, present) for record in records]
    return {
        "traceID": jaeger_trace_id(records[0].trace_id) if records else "",
        "spans": spans,
        "processes": processes.json,
        "warnings": None,
    }


def jaeger_trace_id(trace_id: bytes) -> str:
    """Jaeger's text form: 16 hex digits when the high half is zero (a 64-bit id), else 32."""
    if trace_id[:8] == _ZERO_HALF:
        return trace_id[8:].hex()
    return trace_id.hex()


def _start_then_id(record: SpanRecord) -> tuple[int, bytes]:
    return record.start_ns, record.span_id


def tag(key: str, value: AnyValue) -> dict[str, Any]:
    """One attribute as a Jaeger tag: string, bool, int64, float64 or binary (arrays and maps as JSON text)."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return {"key": key, "type": "string", "value": value.string_value}
    if kind == "int_value":
        number = value.int_value
        if -_JS_MAX_SAFE_INTEGER <= number <= _JS_MAX_SAFE_INTEGER:
            return {"key": key, "type": "int64", "value": number}
        return {"key": key, "type": "int64", "value": str(number)}
    if kind == "bool_value":
        return {"key": key, "type": "bool", "value": value.bool_value}
    if kind == "double_value":
        double: float = value.double_value
        return {"key": key, "type": "float64", "value": double if math.isfinite(double) else str(double)}
    if kind == "bytes_value":
        return {"key": key, "type": "binary", "value": base64.b64encode(value.bytes_value).decode()}
    if kind is None:
        return {"key": key, "type": "string", "value": ""}
    return {"key": key, "type": "string", "value": json.dumps(plain(value), separators=(",", ":"))}


class _Processes:
    """Jaeger processes of one trace, translated once per stored process id."""

    def __init__(self, blobs: dict[bytes, bytes]) -> None:
        self._blobs = blobs
        self._by_process_id: dict[bytes, tuple[str, list[dict[str, Any]]]] = {}
        self._keys: dict[tuple[str, bytes], str] = {}
        self.json: dict[str, dict[str, Any]] = {}

    def lookup(self, record: SpanRecord) -> tuple[str, list[dict[str, Any]]]:
        """The Jaeger process key of the record's process and the scope tags its spans carry."""
        found = self._by_process_id.get(record.process_id)
        if found is None:
            found = self._by_process_id[record.process_id] = self._translate(record)
        return found

    def _translate(self, record: SpanRecord) -> tuple[str, list[dict[str, Any]]]:
        service = record.service
        tags: list[dict[str, Any]] = []
        scope_tags: list[dict[str, Any]] = []
        resource_bytes = b""
        blob = self._blobs.get(record.process_id)
        if blob is not None:
            holder = ResourceSpans.FromString(blob)
            resource_bytes = holder.resource.SerializeToString(deterministic=True)
            for attribute in holder.resource.attributes:
                if attribute.key == "service.name" and attribute.value.WhichOneof("value") == "string_value":
                    service = attribute.value.string_value or service
                else:
                    tags.append(tag(attribute.key, attribute.value))
            if holder.scope_spans:
                scope = holder.scope_spans[0].scope
                if scope.name:
                    scope_tags.append({"key": "otel.scope.name", "type": "string", "value": scope.name})
                if scope.version:
                    scope_tags.append({"key": "otel.scope.version", "type": "string", "value": scope.version})
        key = self._keys.get((service, resource_bytes))
        if key is None:
            key = self._keys[(service, resource_bytes)] = f"p{len(self._keys) + 1}"
            self.json[key] = {"serviceName": service, "tags": tags}
        return key, scope_tags


def _span(record: SpanRecord, processes: _Processes, present: set[bytes]) -> dict[str, Any]:
    span, undecodable = decode_span(record)
    process_key, scope_tags = processes.lookup(record)
    trace_hex = jaeger_trace_id(record.trace_id)

    tags = list(scope_tags)
    tags.extend([tag(attribute.key, attribute.value) for attribute in span.attributes])
    kind = _KIND_TAG_VALUES.get(record.kind)
    if kind is not None:
        tags.append({"key": "span.kind", "type": "string", "value": kind})
    status = span.status
    code_name = _STATUS_CODE_NAMES.get(status.code)
    if code_name is not None:
        tags.append({"key": "otel.status_code", "type": "string", "value": code_name})
        if code_name == "ERROR":
            tags.append({"key": "error", "type": "bool", "value": True})
    if status.message:
        tags.append({"key": "otel.status_description", "type": "string", "value": status.message})
    if span.trace_state:
        tags.append({"key": "w3c.tracestate", "type": "string", "value": span.trace_state})

    references = []
    warnings = [undecodable] if undecodable else []
    parent = record.parent_span_id
    if parent:
        references.append({"refType": "CHILD_OF", "traceID": trace_hex, "spanID": parent.hex()})
        if parent not in present:
            warnings.append(f"parent span {parent.hex()} is not in this trace (not received yet, or lost)")
    for link in span.links:
        link_trace = jaeger_trace_id(link.trace_id)
        references.append({"refType": _link_ref_type(link), "traceID": link_trace, "spanID": link.span_id.hex()})

    logs = []
    for event in span.events:
        fields = [{"key": "event", "type": "string", "value": event.name}] if event.name else []
        fields.extend([tag(attribute.key, attribute.value) for attribute in event.attributes])
        logs.append({"timestamp": event.time_unix_nano // 1000, "fields": fields})

    return {
        "traceID": trace_hex,
        "spanID": record.span_id.hex(),
        "operationName": record.name,
        "references": references,
        "startTime": record.start_ns // 1000,
        "duration": record.duration_ns // 1000,
        "tags": tags,
        "logs": logs,
        "processID": process_key,
        "warnings": warnings or None,
    }


def _link_ref_type(link: Span.Link) -> str:
    """Links are FOLLOWS_FROM unless a Jaeger/OpenTracing client marked one ``child_of``."""
    for attribute in link.attributes:
        if attribute.key == _REF_TYPE_ATTRIBUTE and attribute.value.string_value == "child_of":
            return "CHILD_OF"
    return "FOLLOWS_FROM"
