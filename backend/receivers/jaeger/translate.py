"""Jaeger's span model (Thrift ``Batch``) → an OTLP export request, as the Collector's jaeger translator does it.

The request then takes the same ``to_batch`` path as OTLP, so a trace whose
services report over different protocols is stored as one trace.  The
mapping: the process becomes the resource (``service.name`` plus its tags);
the tags ``span.kind``, ``otel.status_code``, ``otel.status_description``,
``error`` and ``otel.scope.name``/``otel.library.name`` (and versions) become
the OTLP fields they stand for; logs become events (named by their ``event``
field); the first CHILD_OF reference in the same trace is the parent when
``parentSpanId`` is 0, and the other references become links.  Ids are
signed 64-bit in Thrift and big-endian bytes in OTLP.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ScopeSpans, Span, Status

from backend.receivers.idl import jaeger
from backend.receivers.shared.otel_tags import SCOPE_KEYS, STATUS_CODE_KEY, scope_of, status_code
from backend.spans.otlp import InvalidRequest

_MASK = (1 << 64) - 1
_KINDS = {
    "client": Span.SPAN_KIND_CLIENT,
    "server": Span.SPAN_KIND_SERVER,
    "producer": Span.SPAN_KIND_PRODUCER,
    "consumer": Span.SPAN_KIND_CONSUMER,
    "internal": Span.SPAN_KIND_INTERNAL,
}
_CONSUMED = {"span.kind", STATUS_CODE_KEY, "otel.status_description", *SCOPE_KEYS}


def span_id_bytes(value: int) -> bytes:
    return (value & _MASK).to_bytes(8, "big")


def trace_id_bytes(high: int, low: int) -> bytes:
    return span_id_bytes(high) + span_id_bytes(low)


def any_value(tag: Any) -> AnyValue:
    """A Thrift tag's value as OTLP's; an unknown type is kept as its string value."""
    types = jaeger().TagType
    if tag.vType == types.DOUBLE:
        return AnyValue(double_value=tag.vDouble or 0.0)
    if tag.vType == types.BOOL:
        return AnyValue(bool_value=bool(tag.vBool))
    if tag.vType == types.LONG:
        return AnyValue(int_value=tag.vLong or 0)
    if tag.vType == types.BINARY:
        return AnyValue(bytes_value=tag.vBinary or b"")
    return AnyValue(string_value=tag.vStr or "")


def _text(tag: Any) -> str:
    value = any_value(tag)
    which = value.WhichOneof("value")
    if which == "bool_value":
        return "true" if value.bool_value else "false"
    return str(getattr(value, which)) if which else ""


def to_request(batch: Any) -> ExportTraceServiceRequest:
    """One ResourceSpans for the batch's process, one ScopeSpans per instrumentation scope.

    Raises ``InvalidRequest`` when the batch lacks the process or its service name, or when a
    value does not fit OTLP (a time past 2554, a negative time, a field of the wrong type).
    """
    try:
        return _request(batch)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidRequest(f"the Jaeger batch has a value OTLP cannot hold: {exc}") from exc


def _request(batch: Any) -> ExportTraceServiceRequest:
    process = batch.process
    if process is None or not process.serviceName:
        raise InvalidRequest("the Jaeger batch has no process with a serviceName")
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource = resource_spans.resource
    resource.attributes.add(key="service.name", value=AnyValue(string_value=process.serviceName))
    for tag in process.tags or ():
        if tag.key != "service.name" and tag.key:
            resource.attributes.add(key=tag.key, value=any_value(tag))
    scopes: dict[tuple[str, str], ScopeSpans] = {}
    for thrift_span in batch.spans or ():
        span, scope = _span(thrift_span)
        scope_spans = scopes.get(scope)
        if scope_spans is None:
            scope_spans = scopes[scope] = resource_spans.scope_spans.add()
            scope_spans.scope.name, scope_spans.scope.version = scope
        scope_spans.spans.append(span)
    return request


def _span(source: Any) -> tuple[Span, tuple[str, str]]:
    trace_id = trace_id_bytes(source.traceIdHigh or 0, source.traceIdLow or 0)
    start_ns = (source.startTime or 0) * 1000
    span = Span(
        trace_id=trace_id,
        span_id=span_id_bytes(source.spanId or 0),
        name=source.operationName or "",
        start_time_unix_nano=start_ns,
        end_time_unix_nano=start_ns + max(source.duration or 0, 0) * 1000,
    )
    parent = source.parentSpanId or 0
    child_of = jaeger().SpanRefType.CHILD_OF
    for ref in source.references or ():
        ref_trace = trace_id_bytes(ref.traceIdHigh or 0, ref.traceIdLow or 0)
        if not parent and ref.refType == child_of and ref_trace == trace_id:
            parent = ref.spanId or 0
        elif (ref.spanId or 0) != parent or ref_trace != trace_id:
            span.links.add(trace_id=ref_trace, span_id=span_id_bytes(ref.spanId or 0))
    if parent:
        span.parent_span_id = span_id_bytes(parent)
    scope = _tags(source.tags or (), span)
    for log in source.logs or ():
        event = span.events.add(time_unix_nano=(log.timestamp or 0) * 1000)
        for field in log.fields or ():
            if field.key == "event" and not event.name:
                event.name = _text(field)
            else:
                event.attributes.add(key=field.key, value=any_value(field))
    return span, scope


def _tags(tags: Any, span: Span) -> tuple[str, str]:
    """Copy the attributes into ``span``, turning the special tags into OTLP fields; returns the scope."""
    by_key = {tag.key: tag for tag in tags}
    kind = by_key.get("span.kind")
    if kind is not None:
        span.kind = _KINDS.get(_text(kind).lower(), Span.SPAN_KIND_UNSPECIFIED)
    status = by_key.get(STATUS_CODE_KEY)
    error = by_key.get("error")
    if status is not None:
        span.status.code = status_code(_text(status))
    elif error is not None and _text(error) == "true":
        span.status.code = Status.STATUS_CODE_ERROR
    description = by_key.get("otel.status_description")
    if description is not None and span.status.code == Status.STATUS_CODE_ERROR:
        span.status.message = _text(description)
    keep_error = status is None and error is not None and _text(error) != "true"
    for tag in tags:
        if tag.key in _CONSUMED or (tag.key == "error" and not keep_error):
            continue
        span.attributes.append(KeyValue(key=tag.key, value=any_value(tag)))
    return scope_of(by_key, _text)
