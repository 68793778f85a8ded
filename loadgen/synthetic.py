"""Seeded synthetic traces as OTLP export requests, for the firehose users and the benchmark.

A benchmark only compares across runs, machines and backends if every run sends the same data,
so everything here (ids, tree shape, timings, attribute values, errors) comes from one seeded
``random.Random`` and from a base time given by the caller: the same seed, stream and base time
produce byte-identical requests.  Streams let many Locust users or workers share one seed without
sending the same trace ids.

The generator remembers each trace id it produced with its span count, which is what a
completeness check needs (every trace sent must come back with every span).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

SCOPE_NAME = "loadgen.synthetic"
SYNTHETIC_ATTRIBUTE = "user_agent.synthetic.type"  # OTel semconv marker for synthetic traffic
TIER_ATTRIBUTE = "customer.tier"  # low-cardinality attribute on every root span, for tag queries
TIERS = ("gold", "silver", "bronze")
OPERATIONS_PER_SERVICE = 4
TRACE_SPACING_NS = 100_000  # consecutive traces start 0.1 ms apart, whatever the real send rate


@dataclass(frozen=True)
class TraceShape:
    """What each synthetic trace looks like; every field is a limit the generator keeps exactly."""

    services: int = 5
    depth: int = 4
    spans_per_trace: int = 10
    attributes: int = 5
    attribute_size: int = 16
    error_rate: float = 0.02
    traces_per_request: int = 10

    def __post_init__(self) -> None:
        if self.services < 1:
            raise ValueError("services must be at least 1")
        if self.spans_per_trace < 1:
            raise ValueError("spans_per_trace must be at least 1")
        if not 1 <= self.depth <= self.spans_per_trace:
            raise ValueError("depth must be between 1 and spans_per_trace")
        if self.attributes < 0 or self.attribute_size < 0:
            raise ValueError("attributes and attribute_size must not be negative")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        if self.traces_per_request < 1:
            raise ValueError("traces_per_request must be at least 1")

    @property
    def spans_per_request(self) -> int:
        return self.spans_per_trace * self.traces_per_request


def service_name(index: int) -> str:
    return f"synthetic-{index:02d}"


def operation_name(service_index: int, operation: int) -> str:
    return f"{service_name(service_index)}/op-{operation}"


@dataclass(frozen=True, slots=True)
class SentTrace:
    trace_id: str  # 32 lowercase hex digits, as the Jaeger API spells it
    spans: int


class SyntheticTraces:
    """An endless, repeatable sequence of export requests of one ``TraceShape``."""

    def __init__(self, shape: TraceShape, seed: int, base_time_ns: int, stream: int = 0) -> None:
        self.shape = shape
        self.seed = seed
        self.base_time_ns = base_time_ns
        self.stream = stream
        self._random = random.Random(f"loadgen:{seed}:{stream}")
        self._sequence = 0
        self.produced: dict[str, int] = {}

    def next_request(self) -> tuple[ExportTraceServiceRequest, list[SentTrace]]:
        """The next request and the traces inside it (also added to ``produced``)."""
        shape = self.shape
        by_service: list[list[Span]] = [[] for _ in range(shape.services)]
        traces = []
        for _ in range(shape.traces_per_request):
            trace = self._trace(by_service)
            traces.append(trace)
            self.produced[trace.trace_id] = trace.spans
        request = ExportTraceServiceRequest()
        for index, spans in enumerate(by_service):
            if not spans:
                continue
            resource_spans = request.resource_spans.add()
            resource_spans.resource.attributes.extend(
                [_string("service.name", service_name(index)), _string("host.name", f"synthetic-host-{index % 3}")]
            )
            scope_spans = resource_spans.scope_spans.add()
            scope_spans.scope.name = SCOPE_NAME
            scope_spans.spans.extend(spans)
        return request, traces

    def _trace(self, by_service: list[list[Span]]) -> SentTrace:
        shape = self.shape
        rand = self._random
        trace_id = rand.getrandbits(128).to_bytes(16, "big")
        start = self.base_time_ns + self._sequence * TRACE_SPACING_NS
        self._sequence += 1
        failing = rand.random() < shape.error_rate
        failing_span = rand.randrange(shape.spans_per_trace) if failing else -1
        # (span id, service, depth, start, end) of every span so far; parents come from here
        nodes: list[tuple[bytes, int, int, int, int]] = []
        for position in range(shape.spans_per_trace):
            span_id = (rand.getrandbits(64) | 1).to_bytes(8, "big")  # never the all-zero invalid id
            if position == 0:
                service, depth, parent_id = 0, 0, b""
                begin, end = start, start + rand.randrange(1_000_000, 500_000_000)
                kind = Span.SPAN_KIND_SERVER
            else:
                # the first ``depth`` spans form a chain so the deepest level is always reached
                parent = nodes[position - 1] if position < shape.depth else self._pick_parent(nodes)
                parent_id, parent_service, parent_depth, parent_begin, parent_end = parent
                service, depth = rand.randrange(shape.services), parent_depth + 1
                room = parent_end - parent_begin
                begin = parent_begin + rand.randrange(room // 4 + 1)
                end = begin + max(1_000, rand.randrange(room // 2 + 1))
                kind = Span.SPAN_KIND_SERVER if service != parent_service else Span.SPAN_KIND_INTERNAL
            nodes.append((span_id, service, depth, begin, end))
            span = Span(
                trace_id=trace_id,
                span_id=span_id,
                parent_span_id=parent_id,
                name=operation_name(service, rand.randrange(OPERATIONS_PER_SERVICE)),
                kind=kind,
                start_time_unix_nano=begin,
                end_time_unix_nano=end,
                attributes=self._attributes(position == 0),
            )
            if position == failing_span:
                span.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message="synthetic failure"))
                span.attributes.append(KeyValue(key="error", value=AnyValue(bool_value=True)))
            by_service[service].append(span)
        return SentTrace(trace_id.hex(), shape.spans_per_trace)

    def _pick_parent(self, nodes: list[tuple[bytes, int, int, int, int]]) -> tuple[bytes, int, int, int, int]:
        """A random earlier span that still leaves room below it within ``depth``."""
        while True:
            candidate = nodes[self._random.randrange(len(nodes))]
            if candidate[2] < self.shape.depth - 1:
                return candidate

    def _attributes(self, root: bool) -> list[KeyValue]:
        rand = self._random
        size = self.shape.attribute_size
        values = [
            _string(f"synthetic.attr.{k}", rand.randbytes((size + 1) // 2).hex()[:size])
            for k in range(self.shape.attributes)
        ]
        if root:
            values.append(_string(TIER_ATTRIBUTE, TIERS[rand.randrange(len(TIERS))]))
            values.append(_string(SYNTHETIC_ATTRIBUTE, "test"))
        return values


def _string(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))
