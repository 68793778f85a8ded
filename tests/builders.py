"""Build OTLP requests and span batches from short descriptions, for tests of every part.

A test says what it needs (``span("frontend", "HTTP GET /dispatch", ...)``) and
gets real OTLP protobuf, so each test exercises the same decoding as ingest.
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from backend.spans.model import SpanBatch
from backend.spans.otlp import to_batch
from backend.storage.api import Storage


def new_trace_id() -> bytes:
    return os.urandom(16)


def new_span_id() -> bytes:
    return os.urandom(8)


def any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, list | tuple):
        result = AnyValue()
        result.array_value.values.extend(any_value(v) for v in value)
        return result
    return AnyValue(string_value=str(value))


def attributes(values: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=any_value(v)) for k, v in values.items()]


@dataclass
class SpanSpec:
    """One span to send; ``parent`` is another SpanSpec of the same trace (or None for a root)."""

    service: str
    name: str
    trace_id: bytes = field(default_factory=new_trace_id)
    span_id: bytes = field(default_factory=new_span_id)
    parent: SpanSpec | None = None
    kind: int = Span.SPAN_KIND_SERVER
    start_ns: int = field(default_factory=time.time_ns)
    duration_ns: int = 1_000_000
    attributes: dict[str, Any] = field(default_factory=dict)
    resource: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)  # (name, offset_ns, attrs)
    links: list[tuple[bytes, bytes] | tuple[bytes, bytes, dict[str, Any]]] = field(default_factory=list)
    # (trace_id, span_id) or (trace_id, span_id, attributes)
    status_code: int = Status.STATUS_CODE_UNSET
    status_message: str = ""
    scope: str = "tests"
    scope_attributes: dict[str, Any] = field(default_factory=dict)

    def child(self, service: str, name: str, **overrides: Any) -> SpanSpec:
        """A span of the same trace whose parent is this one, starting inside it by default."""
        overrides.setdefault("start_ns", self.start_ns + 1_000)
        overrides.setdefault("duration_ns", max(self.duration_ns // 2, 1))
        return SpanSpec(service, name, trace_id=self.trace_id, parent=self, **overrides)

    def to_proto(self) -> Span:
        span = Span(
            trace_id=self.trace_id,
            span_id=self.span_id,
            parent_span_id=self.parent.span_id if self.parent else b"",
            name=self.name,
            kind=self.kind,  # type: ignore[arg-type]  # protobuf's stubs want the enum type; the int is one
            start_time_unix_nano=self.start_ns,
            end_time_unix_nano=self.start_ns + self.duration_ns,
            attributes=attributes(self.attributes),
            status=Status(code=self.status_code, message=self.status_message),  # type: ignore[arg-type]  # as kind
        )
        for name, offset, attrs in self.events:
            span.events.add(name=name, time_unix_nano=self.start_ns + offset, attributes=attributes(attrs))
        for link in self.links:
            link_attributes: dict[str, Any] = link[2] if len(link) == 3 else {}
            span.links.add(trace_id=link[0], span_id=link[1], attributes=attributes(link_attributes))
        return span


def export_request(specs: list[SpanSpec]) -> ExportTraceServiceRequest:
    """One ResourceSpans per (service, resource, scope), as an SDK would send them."""
    request = ExportTraceServiceRequest()
    groups: dict[tuple, Any] = {}
    for spec in specs:
        key = (
            spec.service,
            tuple(sorted((k, str(v)) for k, v in spec.resource.items())),
            spec.scope,
            tuple(sorted((k, str(v)) for k, v in spec.scope_attributes.items())),
        )
        scope_spans = groups.get(key)
        if scope_spans is None:
            resource_spans = request.resource_spans.add()
            resource_spans.resource.attributes.extend(attributes({"service.name": spec.service, **spec.resource}))
            scope_spans = resource_spans.scope_spans.add()
            scope_spans.scope.name = spec.scope
            scope_spans.scope.attributes.extend(attributes(spec.scope_attributes))
            groups[key] = scope_spans
        scope_spans.spans.append(spec.to_proto())
    return request


def otlp_json(specs: list[SpanSpec]) -> dict[str, Any]:
    """The spans as an OTLP/JSON document (hex ids, integer enums), as an SDK's JSON exporter writes it."""
    document = json_format.MessageToDict(export_request(specs), use_integers_for_enums=True)

    def hex_ids(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("traceId", "spanId", "parentSpanId"):
                    node[key] = base64.b64decode(value).hex()
                else:
                    hex_ids(value)
        elif isinstance(node, list):
            for item in node:
                hex_ids(item)

    hex_ids(document)
    return document


def batch_of(specs: list[SpanSpec]) -> SpanBatch:
    decoded = to_batch(export_request(specs))
    assert decoded.rejected == 0, decoded.error
    return decoded.batch


class WritesSpans:
    """Mixed into a test's handle on a storage: ``store(*specs)`` writes the specs as one batch."""

    storage: Storage

    def store(self, *specs: SpanSpec) -> None:
        self.storage.writer().write(batch_of(list(specs)))
