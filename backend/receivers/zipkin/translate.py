"""Zipkin v2 spans (JSON or protobuf) → an OTLP export request, after the Collector's zipkin translator.

Both encodings are first brought to the JSON shape (hex ids, kind names),
then translated once: ``localEndpoint.serviceName`` is the resource's
``service.name`` (spans are grouped per service); ``kind`` maps to the span
kind (none means internal, as OpenTelemetry's Zipkin exporters omit it for
internal spans); tags become string attributes, except ``otel.status_code``
and ``error`` (the status and its description) and the scope tags;
annotations become events; the remote endpoint becomes ``peer.service``,
``net.peer.ip`` and ``net.peer.port``.  Any bad id fails the whole request,
as Zipkin's own server does, naming the span and field.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from backend.receivers.idl.zipkin_proto import KINDS, list_of_spans
from backend.receivers.shared.otel_tags import SCOPE_KEYS, STATUS_CODE_KEY, scope_of, status_code
from backend.spans.otlp import UNKNOWN_SERVICE, InvalidRequest

_KINDS = {
    "CLIENT": Span.SPAN_KIND_CLIENT,
    "SERVER": Span.SPAN_KIND_SERVER,
    "PRODUCER": Span.SPAN_KIND_PRODUCER,
    "CONSUMER": Span.SPAN_KIND_CONSUMER,
}
_CONSUMED = {STATUS_CODE_KEY, "error", "service.name", *SCOPE_KEYS}


def spans_from_json(body: bytes) -> list[dict[str, Any]]:
    try:
        spans = json.loads(body)
    except RecursionError as exc:
        raise InvalidRequest("body nests too deeply to be Zipkin v2 spans") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequest(f"body is not valid JSON: {exc}") from exc
    if not isinstance(spans, list) or not all(isinstance(span, dict) for span in spans):
        raise InvalidRequest("body must be a JSON array of Zipkin v2 spans")
    return spans


def spans_from_proto(body: bytes) -> list[dict[str, Any]]:
    """A protobuf ``ListOfSpans`` in the JSON shape (ids as hex), so one translation serves both."""
    try:
        message = list_of_spans().FromString(body)
    except DecodeError as exc:
        raise InvalidRequest(f"body is not a valid Zipkin protobuf ListOfSpans: {exc}") from exc
    spans = []
    for source in message.spans:
        span: dict[str, Any] = {
            "traceId": source.trace_id.hex(),
            "id": source.id.hex(),
            "name": source.name,
            "timestamp": source.timestamp,
            "duration": source.duration,
            "tags": dict(source.tags),
            "annotations": [{"timestamp": a.timestamp, "value": a.value} for a in source.annotations],
        }
        if source.parent_id:
            span["parentId"] = source.parent_id.hex()
        if source.kind:
            span["kind"] = KINDS[source.kind] if source.kind < len(KINDS) else ""
        for field, key in (("local_endpoint", "localEndpoint"), ("remote_endpoint", "remoteEndpoint")):
            if source.HasField(field):
                span[key] = _endpoint(getattr(source, field))
        spans.append(span)
    return spans


def _endpoint(endpoint: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"serviceName": endpoint.service_name}
    if len(endpoint.ipv4) == 4:
        found["ipv4"] = str(ipaddress.IPv4Address(endpoint.ipv4))
    if len(endpoint.ipv6) == 16:
        found["ipv6"] = str(ipaddress.IPv6Address(endpoint.ipv6))
    if endpoint.port:
        found["port"] = endpoint.port
    return found


def _id(span: dict[str, Any], key: str, index: int, sizes: tuple[int, ...]) -> bytes:
    value = span.get(key)
    if not isinstance(value, str) or len(value) not in sizes:
        raise InvalidRequest(f"span {index}: {key} must be {' or '.join(map(str, sizes))} hex digits, got {value!r}")
    try:
        raw = bytes.fromhex(value.rjust(max(sizes), "0"))
    except ValueError as exc:
        raise InvalidRequest(f"span {index}: {key} {value!r} is not hex") from exc
    if not any(raw):
        raise InvalidRequest(f"span {index}: {key} must not be all zeros")
    return raw


def _annotation(value: str, event: Any) -> None:
    """OpenTelemetry's exporters write an event as ``{"name": {attributes}}``; anything else is the name."""
    parsed = None
    if value.startswith("{"):
        try:
            parsed = json.loads(value)
        except (json.JSONDecodeError, RecursionError):
            parsed = None
    if not (isinstance(parsed, dict) and len(parsed) == 1 and isinstance(next(iter(parsed.values())), dict)):
        event.name = value
        return
    ((event.name, attributes),) = parsed.items()
    for key, item in attributes.items():
        event.attributes.add(key=str(key), value=_any(item))


def _any(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=value if isinstance(value, str) else json.dumps(value))


def _object(span: dict[str, Any], key: str, index: int) -> dict[str, Any]:
    value = span.get(key) or {}
    if not isinstance(value, dict):
        raise InvalidRequest(f"span {index}: {key} must be an object, got {value!r}")
    return value


def _micros(span: dict[str, Any], key: str, index: int) -> int:
    value = span.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidRequest(f"span {index}: {key} must be a non-negative integer of microseconds, got {value!r}")
    return value


def to_request(spans: list[dict[str, Any]]) -> ExportTraceServiceRequest:
    """Raises ``InvalidRequest`` naming the first span that cannot be translated."""
    try:
        return _request(spans)
    except (ValueError, TypeError, OverflowError, AttributeError) as exc:
        if isinstance(exc, InvalidRequest):
            raise
        raise InvalidRequest(f"a span has a value OTLP cannot hold: {exc}") from exc


def _request(spans: list[dict[str, Any]]) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    groups: dict[tuple[str, str, str], ScopeSpans] = {}
    resources: dict[str, ResourceSpans] = {}
    for index, source in enumerate(spans):
        span, service, scope = _span(source, index)
        resource_spans = resources.get(service)
        if resource_spans is None:
            resource_spans = resources[service] = request.resource_spans.add()
            resource_spans.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
        scope_spans = groups.get((service, *scope))
        if scope_spans is None:
            scope_spans = groups[(service, *scope)] = resource_spans.scope_spans.add()
            scope_spans.scope.name, scope_spans.scope.version = scope
        scope_spans.spans.append(span)
    return request


def _span(source: dict[str, Any], index: int) -> tuple[Span, str, tuple[str, str]]:
    start_ns = _micros(source, "timestamp", index) * 1000
    span = Span(
        trace_id=_id(source, "traceId", index, (16, 32)),
        span_id=_id(source, "id", index, (16,)),
        name=str(source.get("name") or ""),
        kind=_KINDS.get(str(source.get("kind") or "").upper(), Span.SPAN_KIND_INTERNAL),
        start_time_unix_nano=start_ns,
        end_time_unix_nano=start_ns + _micros(source, "duration", index) * 1000,
    )
    if source.get("parentId"):
        span.parent_span_id = _id(source, "parentId", index, (16,))
    tags = {str(key): str(value) for key, value in _object(source, "tags", index).items()}
    if STATUS_CODE_KEY in tags:
        span.status.code = status_code(tags[STATUS_CODE_KEY])
    elif "error" in tags:
        span.status.code = Status.STATUS_CODE_ERROR
    if span.status.code == Status.STATUS_CODE_ERROR and tags.get("error"):
        span.status.message = tags["error"]
    span.attributes.extend(
        KeyValue(key=key, value=AnyValue(string_value=value)) for key, value in tags.items() if key not in _CONSUMED
    )
    remote = _object(source, "remoteEndpoint", index)
    for field, key in (("serviceName", "peer.service"), ("ipv4", "net.peer.ip"), ("ipv6", "net.peer.ip")):
        if remote.get(field):
            span.attributes.add(key=key, value=AnyValue(string_value=str(remote[field])))
    if isinstance(remote.get("port"), int):
        span.attributes.add(key="net.peer.port", value=AnyValue(int_value=remote["port"]))
    for annotation in source.get("annotations") or ():
        if isinstance(annotation, dict):
            event = span.events.add(time_unix_nano=_micros(annotation, "timestamp", index) * 1000)
            _annotation(str(annotation.get("value", "")), event)
    service = str(_object(source, "localEndpoint", index).get("serviceName") or UNKNOWN_SERVICE)
    return span, service, scope_of(tags, str)
