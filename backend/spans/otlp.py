"""OTLP trace requests → ``SpanBatch``: the ingest hot path, and stored spans back to OTLP.

Only the indexed fields are read from each span; the span itself is kept as
its serialized bytes (see ``backend.spans.model``).  Protobuf bodies are parsed as
skim types (``backend.spans.otlp_skim``), JSON ones as the full types; ``to_batch``
takes either.  Spans with invalid ids, and spans a reader could not decode
(``drop_undecodable``), are rejected one by one, which OTLP reports back as a
partial success.  Nesting of any depth is a 400 or such a rejection, never
a crash: the JSON path checks depth itself, and protobuf's decoder stops at
``PROTOBUF_DEPTH`` levels.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from backend.spans.model import STATUS_UNSET, SpanBatch, SpanRecord
from backend.spans.otlp_json import ID_KEYS, read_request
from backend.spans.otlp_skim import SkimRequest, SpanBytesRequest

UNKNOWN_SERVICE = "unknown_service"
# upb's default decoding depth, which every reader of a stored span meets (Span.FromString)
PROTOBUF_DEPTH = 100
# JSON levels: OTLP/JSON spends 3 per AnyValue level ({"arrayValue": {"values": [...]}}), the protobuf limit in JSON
JSON_DEPTH = 3 * PROTOBUF_DEPTH + 10
_NAMED = 5  # rejected spans named in a partial success message
_ZERO_TRACE = bytes(16)
_ZERO_SPAN = bytes(8)


class InvalidRequest(ValueError):
    """The request body is not a valid OTLP trace export; maps to HTTP 400."""


_TIME_LIMIT_NS = 2**63

# An ExportTraceServiceRequest, or the skim type of the same shape that parse_protobuf builds at run time
# (backend/spans/otlp_skim.py): no static type covers both, so readers of it are checked by tests.
TraceRequest = Any


@dataclass(slots=True)
class Decoded:
    batch: SpanBatch
    rejected: int
    error: str


@dataclass(slots=True)
class Dropped:
    """Spans taken out of a request before ``to_batch`` because no reader could decode them."""

    count: int
    error: str


def parse_protobuf(body: bytes) -> TraceRequest:
    """The request as skim types: the span fields ingest reads, the rest kept as bytes."""
    request = SkimRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise InvalidRequest(f"body is not a valid OTLP protobuf ExportTraceServiceRequest: {exc}") from exc
    return request


def drop_undecodable(body: bytes, request: TraceRequest) -> Dropped | None:
    """Take out of ``request`` (parsed from ``body`` as skim types) each span a reader could not decode.

    The skim types do not look inside attributes, events and links; the full
    types do, and stop at protobuf's depth limit or at a string that is not
    UTF-8.  One parse of the whole body with the full types (~0.25 us per span)
    finds whether any span is such; only then is each span tried alone, so that
    the rest are kept and the sender is told which were not.
    """
    try:
        ExportTraceServiceRequest.FromString(body)
        return None
    except DecodeError:
        pass
    named: list[str] = []
    count = 0
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            spans = scope_spans.spans
            for index in reversed(range(len(spans))):
                try:
                    Span.FromString(spans[index].SerializeToString())
                except DecodeError:
                    count += 1
                    named.append(f"{spans[index].trace_id.hex()}/{spans[index].span_id.hex()}")
                    del spans[index]
    if not count:
        return None  # only the request's own framing nests too deep: each span alone decodes
    shown = ", ".join(reversed(named[-_NAMED:])) + (f" and {count - _NAMED} more" if count > _NAMED else "")
    reason = f"attributes, events or links nested deeper than {PROTOBUF_DEPTH} levels, or a string not UTF-8"
    return Dropped(count, f"{count} span(s) rejected as undecodable ({reason}): {shown}")


def parse_json(body: bytes) -> ExportTraceServiceRequest:
    """OTLP/JSON differs from protobuf's JSON mapping in one way: ids are hex.

    The usual document is read by ``backend.spans.otlp_json.read_request``
    (with ``json.loads``, about 2.5 times faster than ``parse_dict``); an
    unusual one (another spelling protobuf's mapping allows, or a mistake) by
    ``parse_dict``, which also says what is wrong.
    """
    try:
        document = json.loads(body)
    except RecursionError as exc:
        raise InvalidRequest(f"body nests deeper than {JSON_DEPTH} levels") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequest(f"body is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidRequest("body must be a JSON object with a resourceSpans array")
    usual = read_request(document, PROTOBUF_DEPTH)
    return usual if usual is not None else parse_dict(document)


def parse_dict(document: dict[str, Any]) -> ExportTraceServiceRequest:
    """``document`` read by protobuf's own JSON mapping (ids turned from hex first): slow, but says what is wrong.

    Changes ``document`` (its ids become base64).
    """
    _hex_ids_to_base64(document)
    request = ExportTraceServiceRequest()
    try:
        json_format.ParseDict(document, request, ignore_unknown_fields=True, max_recursion_depth=PROTOBUF_DEPTH)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        raise InvalidRequest(f"body is not a valid OTLP/JSON ExportTraceServiceRequest: {exc}") from exc
    return request


def _hex_ids_to_base64(document: dict[str, object]) -> None:
    """Walked with a stack, not recursion, so that the depth is checked here rather than by a RecursionError."""
    stack: list[tuple[object, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > JSON_DEPTH:
            raise InvalidRequest(f"body nests deeper than {JSON_DEPTH} levels")
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ID_KEYS and isinstance(value, str):
                    try:
                        node[key] = base64.b64encode(bytes.fromhex(value)).decode()
                    except ValueError as exc:
                        raise InvalidRequest(f"{key} {value!r} is not a hex string") from exc
                elif isinstance(value, dict | list):
                    stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node if isinstance(item, dict | list))


def service_name(resource_attributes: Iterable[KeyValue]) -> str:
    for attribute in resource_attributes:
        if attribute.key == "service.name":
            return attribute.value.string_value or UNKNOWN_SERVICE
    return UNKNOWN_SERVICE


def process_blob(resource_spans: ResourceSpans, scope_spans: ScopeSpans) -> bytes:
    """The resource and scope of a group of spans, serialized without the spans."""
    holder = ResourceSpans(schema_url=resource_spans.schema_url)
    holder.resource.CopyFrom(resource_spans.resource)
    holder.scope_spans.add(scope=scope_spans.scope, schema_url=scope_spans.schema_url)
    return holder.SerializeToString()


def to_batch(request: TraceRequest, dropped: Dropped | None = None, body: bytes | None = None) -> Decoded:
    """``request`` is an ``ExportTraceServiceRequest`` or a ``SkimRequest``: both have the fields read here.

    ``dropped``: spans already taken out of it (``drop_undecodable``), reported with the rest.  ``body``: the
    protobuf ``request`` was parsed from; unless spans were taken out, each span's payload is its bytes there
    (a span serialized again would parse the same, for more CPU).
    """
    batch = SpanBatch()
    spans = batch.spans
    append = spans.append
    bad_ids = bad_times = 0
    as_sent = SpanBytesRequest.FromString(body).resource_spans if body is not None and dropped is None else None
    for resource_index, resource_spans in enumerate(request.resource_spans):
        service = service_name(resource_spans.resource.attributes)
        for scope_index, scope_spans in enumerate(resource_spans.scope_spans):
            blob = process_blob(resource_spans, scope_spans)
            process_id = hashlib.blake2b(blob, digest_size=8).digest()
            batch.processes[process_id] = blob
            if as_sent is None:
                payloads = [span.SerializeToString() for span in scope_spans.spans]
            else:
                payloads = as_sent[resource_index].scope_spans[scope_index].spans
            for span, payload in zip(scope_spans.spans, payloads, strict=True):
                trace_id = span.trace_id
                span_id = span.span_id
                if len(trace_id) != 16 or len(span_id) != 8 or trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
                    bad_ids += 1
                    continue
                start = span.start_time_unix_nano
                end = span.end_time_unix_nano
                if start >= _TIME_LIMIT_NS or end >= _TIME_LIMIT_NS:  # storage keeps signed 64-bit nanoseconds
                    bad_times += 1
                    continue
                append(
                    SpanRecord(
                        trace_id,
                        span_id,
                        span.parent_span_id,
                        service,
                        span.name,
                        span.kind,
                        start,
                        max(end - start, 0),
                        span.status.code if span.HasField("status") else STATUS_UNSET,
                        process_id,
                        payload,
                    )
                )
    reasons = []
    if bad_ids:
        reasons.append(f"{bad_ids} span(s) rejected: trace id must be 16 bytes and span id 8 bytes, not all zero")
    if bad_times:
        reasons.append(f"{bad_times} span(s) rejected: start and end times must be before 2262 (2^63 ns)")
    rejected = bad_ids + bad_times
    if dropped is not None:
        rejected += dropped.count
        reasons.append(dropped.error)
    return Decoded(batch, rejected, "; ".join(reasons))


def decode_span(record: SpanRecord) -> tuple[Span, str]:
    """The stored span whole, and "" — or, when its payload does not parse, its indexed fields and why.

    Ingest does not look inside attributes, events and links (``backend.spans.otlp_skim``),
    so a payload can hold what does not parse; readers show what is known instead of failing.
    """
    try:
        return Span.FromString(record.payload), ""
    except DecodeError as exc:
        span = Span(
            trace_id=record.trace_id,
            span_id=record.span_id,
            parent_span_id=record.parent_span_id,
            name=record.name,
            kind=record.kind,  # type: ignore[arg-type]  # protobuf's stubs want its enum type; the int is one
            start_time_unix_nano=record.start_ns,
            end_time_unix_nano=record.start_ns + record.duration_ns,
            status=Status(code=record.status_code),  # type: ignore[arg-type]  # as kind
        )
        return span, f"the span's attributes, events and links could not be decoded: {exc}"
