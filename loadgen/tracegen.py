"""Traces shaped like Jaeger's ``tracegen``, the data of Jaeger's published ClickHouse benchmark.

Jaeger's ``internal/storage/v2/clickhouse/BENCHMARKING.md`` stored 10 M spans
written by tracegen with ``-spans 9 -attrs 11 -attr-keys 97 -attr-values
1000`` over 10 services and 10 days.  Each trace here is what tracegen makes:
a server root ``lets-go`` (``peer.service``, ``peer.host.ipv4``) with nine
client children ``child-span-00`` … ``child-span-08`` of 123 µs each, one
after another, every child carrying 11 ``attr_NN = val_NNN`` attributes whose
keys and values cycle through 97 keys and 1,000 values; trace *i* belongs to
service ``tracegen-NN`` with NN = i mod 10 + 1, and the traces are spread
evenly over the time span given.  Ids come from a seeded generator, so a run
is repeatable.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span

CHILD_NS = 123_000


@dataclass(frozen=True)
class TracegenShape:
    traces: int = 1_000_000
    services: int = 10
    children: int = 9
    attributes: int = 11
    attribute_keys: int = 97
    attribute_values: int = 1000
    span_ns: int = 10 * 86_400_000_000_000  # the time the traces are spread over
    traces_per_request: int = 50

    @property
    def spans(self) -> int:
        return self.traces * (self.children + 1)


def service_name(index: int) -> str:
    return f"tracegen-{index % 100 + 1:02d}"


def _text(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


class Tracegen:
    """Export requests of ``shape.traces_per_request`` traces each, the last one possibly shorter."""

    def __init__(self, shape: TracegenShape, end_ns: int, seed: int = 1) -> None:
        self.shape = shape
        self.start_ns = end_ns - shape.span_ns
        self._random = random.Random(f"tracegen:{seed}")
        self._key = 0
        self._value = 0
        self.trace_ids: list[bytes] = []  # every trace id made, in order

    def requests(self) -> Iterator[ExportTraceServiceRequest]:
        shape = self.shape
        for first in range(0, shape.traces, shape.traces_per_request):
            by_service: dict[int, list[Span]] = {}
            for number in range(first, min(first + shape.traces_per_request, shape.traces)):
                by_service.setdefault(number % shape.services, []).extend(self._trace(number))
            request = ExportTraceServiceRequest()
            for service, spans in sorted(by_service.items()):
                resource_spans: ResourceSpans = request.resource_spans.add()
                resource_spans.resource.attributes.extend(
                    [
                        _text("service.name", service_name(service)),
                        _text("telemetry.sdk.language", "go"),
                        _text("telemetry.sdk.name", "opentelemetry"),
                    ]
                )
                scope_spans = resource_spans.scope_spans.add()
                scope_spans.scope.name = "tracegen"
                scope_spans.spans.extend(spans)
            yield request

    def _trace(self, number: int) -> list[Span]:
        shape = self.shape
        rand = self._random
        trace_id = rand.getrandbits(128).to_bytes(16, "big")
        self.trace_ids.append(trace_id)
        start = self.start_ns + number * shape.span_ns // shape.traces
        root_id = (rand.getrandbits(64) | 1).to_bytes(8, "big")
        spans = [
            Span(
                trace_id=trace_id,
                span_id=root_id,
                name="lets-go",
                kind=Span.SPAN_KIND_SERVER,
                start_time_unix_nano=start,
                end_time_unix_nano=start + shape.children * CHILD_NS,
                attributes=[_text("peer.service", "tracegen-server"), _text("peer.host.ipv4", "1.1.1.1")],
            )
        ]
        for child in range(shape.children):
            attributes = []
            for _ in range(shape.attributes):
                attributes.append(_text(f"attr_{self._key:02d}", f"val_{self._value:02d}"))
                self._key = (self._key + 1) % shape.attribute_keys
                self._value = (self._value + 1) % shape.attribute_values
            child_start = start + child * CHILD_NS
            spans.append(
                Span(
                    trace_id=trace_id,
                    span_id=(rand.getrandbits(64) | 1).to_bytes(8, "big"),
                    parent_span_id=root_id,
                    name=f"child-span-{child:02d}",
                    kind=Span.SPAN_KIND_CLIENT,
                    start_time_unix_nano=child_start,
                    end_time_unix_nano=child_start + CHILD_NS,
                    attributes=attributes,
                )
            )
        return spans
