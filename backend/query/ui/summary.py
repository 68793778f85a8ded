"""One line of the search results: what a person scans for in a list of traces.

Built from the indexed fields of the stored spans only (no payload is
decoded), so summarising every trace of a large match set stays cheap.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from backend.query.translate import jaeger_trace_id
from backend.spans.model import STATUS_ERROR
from backend.storage.api import Trace


@dataclass(frozen=True, slots=True)
class TraceSummary:
    trace_id: str  # Jaeger's text form, as used in /trace/{id}
    root_service: str
    root_name: str
    span_count: int
    services: list[tuple[str, int]]  # (service, spans) by name
    error_count: int
    start_ns: int
    duration_ns: int


def summarize(trace: Trace) -> TraceSummary:
    """The summary of a trace with at least one span."""
    spans = trace.spans
    present = {record.span_id for record in spans}
    start = min(record.start_ns for record in spans)
    end = max(record.start_ns + record.duration_ns for record in spans)
    # The root is the earliest span without a parent in the trace (a missing parent makes a span a root).
    roots = [record for record in spans if record.parent_span_id not in present]
    root = min(roots or spans, key=lambda record: record.start_ns)
    services = Counter(record.service for record in spans)
    return TraceSummary(
        trace_id=jaeger_trace_id(root.trace_id),
        root_service=root.service,
        root_name=root.name,
        span_count=len(spans),
        services=sorted(services.items()),
        error_count=sum(1 for record in spans if record.status_code == STATUS_ERROR),
        start_ns=start,
        duration_ns=end - start,
    )


# The page's sort names (kept for shared URLs) → (label, the storage's ``SORT_ORDERS`` name).
SORTS: dict[str, tuple[str, str]] = {
    "newest": ("Most recent", "newest"),
    "oldest": ("Oldest first", "oldest"),
    "slowest": ("Longest first", "slowest"),
    "fastest": ("Shortest first", "fastest"),
    "most-spans": ("Most spans", "most_spans"),
    "most-errors": ("Most errors", "most_errors"),
    "root": ("Root service, operation A-Z", "root"),
}
