"""Trace quality metrics computed from stored traces, in the shape Jaeger UI's Trace Quality page reads.

Jaeger's ``/api/quality-metrics`` answers made-up demo data; these are counted
span by span, per service:

- **Semantic conventions**: a span that crosses a process boundary (server,
  client, producer, consumer) carries the OpenTelemetry attribute that says
  what kind of call it is (``http.request.method``, ``db.system``,
  ``rpc.system``, ``messaging.system``, or their older names).  Internal spans
  are exempt.
- **Service name**: the resource names its service; ``unknown_service`` (the
  SDK's fallback) or nothing fails.
- **Closed spans**: the span has an end time, not before its start.
- **Clock skew**: a span called from another service starts no earlier than
  its caller's span; when it starts earlier, the two hosts' clocks disagree.
  Spans with no parent in the trace, or a parent in the same service, are exempt.

Each metric gives pass, failure and exemption counts with a few example spans,
and a table per service.  Scores are the pass rates (exemptions aside) of the
two categories, weighted by each metric's weight.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from backend.spans.model import KIND_CLIENT, KIND_CONSUMER, KIND_PRODUCER, KIND_SERVER, SpanRecord
from backend.spans.otlp import decode_span
from backend.storage.api import Trace

SEMCONV_KEYS = frozenset(
    {"http.request.method", "http.method", "db.system", "db.system.name", "rpc.system", "messaging.system"}
)
REMOTE_KINDS = frozenset({KIND_SERVER, KIND_CLIENT, KIND_PRODUCER, KIND_CONSUMER})
EXAMPLES = 3
PASS, FAIL, EXEMPT = "pass", "failure", "exemption"
SEMCONV_DOCS = "https://opentelemetry.io/docs/specs/semconv/"
RESOURCE_DOCS = "https://opentelemetry.io/docs/specs/semconv/resource/#service"
TRACE_DOCS = "https://opentelemetry.io/docs/specs/otel/trace/api/#span"


@dataclass
class _Tally:
    counts: dict[str, int] = field(default_factory=lambda: {PASS: 0, FAIL: 0, EXEMPT: 0})
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {PASS: [], FAIL: [], EXEMPT: []})
    by_service: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    def add(self, outcome: str, record: SpanRecord) -> None:
        self.counts[outcome] += 1
        self.by_service[record.service][outcome] += 1
        if len(self.examples[outcome]) < EXAMPLES:
            self.examples[outcome].append({"traceID": record.trace_id.hex(), "spanIDs": [record.span_id.hex()]})

    @property
    def pass_rate(self) -> float:
        judged = self.counts[PASS] + self.counts[FAIL]
        return self.counts[PASS] / judged if judged else 1.0


Check = Callable[[SpanRecord, Span, dict[bytes, SpanRecord]], str]


def _semconv(record: SpanRecord, span: Span, _: dict[bytes, SpanRecord]) -> str:
    if record.kind not in REMOTE_KINDS:
        return EXEMPT
    return PASS if any(attribute.key in SEMCONV_KEYS for attribute in span.attributes) else FAIL


def _service_name(record: SpanRecord, _span: Span, _: dict[bytes, SpanRecord]) -> str:
    return FAIL if not record.service or record.service.startswith("unknown_service") else PASS


def _closed(record: SpanRecord, span: Span, _: dict[bytes, SpanRecord]) -> str:
    return PASS if span.end_time_unix_nano and span.end_time_unix_nano >= record.start_ns else FAIL


def _skew(record: SpanRecord, _span: Span, by_id: dict[bytes, SpanRecord]) -> str:
    parent = by_id.get(record.parent_span_id) if record.parent_span_id else None
    if parent is None or parent.service == record.service:
        return EXEMPT
    return FAIL if record.start_ns < parent.start_ns else PASS


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    category: str  # the score it counts towards
    weight: float
    description: str
    documentation: str
    check: Check


METRICS = [
    Metric("Semantic conventions", "coverage", 0.6,
           "Server, client, producer and consumer spans that say what kind of call they are with OpenTelemetry's "
           "attributes (http.request.method, db.system, rpc.system, messaging.system or their older names).",
           SEMCONV_DOCS, _semconv),
    Metric("Service name", "coverage", 0.4,
           "Spans whose resource names their service (not empty, not the SDK's unknown_service fallback).",
           RESOURCE_DOCS, _service_name),
    Metric("Closed spans", "quality", 0.5, "Spans that were ended: an end time, not before the start.",
           TRACE_DOCS, _closed),
    Metric("Clock skew", "quality", 0.5,
           "Spans called from another service that start no earlier than their caller; one that starts earlier "
           "shows the two hosts' clocks disagree.", TRACE_DOCS, _skew),
]  # fmt: skip
SCORES = [("coverage", "Instrumentation coverage"), ("quality", "Trace quality")]


def quality_metrics(traces: Iterable[Trace], banner: str) -> dict[str, Any]:
    """Jaeger UI's ``TQualityMetrics`` for the spans of ``traces``; ``banner`` says what they were."""
    tallies = [_Tally() for _ in METRICS]
    for trace in traces:
        by_id = {record.span_id: record for record in trace.spans}
        for record in trace.spans:
            span, _ = decode_span(record)
            for tally, metric in zip(tallies, METRICS, strict=True):
                tally.add(metric.check(record, span, by_id), record)
    scores = []
    for key, label in SCORES:
        weighted = [
            (metric.weight, tally.pass_rate)
            for metric, tally in zip(METRICS, tallies, strict=True)
            if metric.category == key
        ]
        total = sum(weight for weight, _ in weighted)
        scores.append({"key": key, "label": label, "max": 100,
                       "value": round(100 * sum(weight * rate for weight, rate in weighted) / total)})  # fmt: skip
    return {
        "traceQualityDocumentationLink": TRACE_DOCS,
        "bannerText": {"value": banner, "styling": {}},
        "scores": scores,
        "metrics": [_metric(metric, tally) for metric, tally in zip(METRICS, tallies, strict=True)],
    }


def _metric(metric: Metric, tally: _Tally) -> dict[str, Any]:
    name = metric.name
    rows = [
        {"service": service, "passCount": counts[PASS], "failureCount": counts[FAIL],
         "exemptionCount": counts[EXEMPT]}
        for service, counts in sorted(tally.by_service.items())
    ]  # fmt: skip
    columns = [("service", "Service"), ("passCount", "Pass"), ("failureCount", "Fail"), ("exemptionCount", "Exempt")]
    return {
        "name": name,
        "category": metric.category,
        "description": metric.description,
        "metricDocumentationLink": metric.documentation,
        "metricWeight": metric.weight,
        "passCount": tally.counts[PASS],
        "passExamples": tally.examples[PASS],
        "failureCount": tally.counts[FAIL],
        "failureExamples": tally.examples[FAIL],
        "exemptionCount": tally.counts[EXEMPT],
        "exemptionExamples": tally.examples[EXEMPT],
        "details": [
            {
                "description": f"{name} per service",
                "header": name,
                "columns": [{"key": key, "label": label, "preventSort": False} for key, label in columns],
                "rows": rows,
            }
        ],
    }
