"""Sorting and paging trace summaries in Python, for plug-ins that cannot do it in their store.

One definition of each ``SORT_ORDERS`` key, so every plug-in orders ties the
same way (the SQL plug-in's ORDER BY mirrors these keys) and pages agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from backend.spans.model import STATUS_ERROR, SpanRecord
from backend.storage.api import SORT_ORDERS, ServiceSummary, TraceSummary

_KEYS: dict[str, Callable[[TraceSummary], tuple[int | bytes | str, ...]]] = {
    "newest": lambda s: (-s.start_ns, s.trace_id),
    "oldest": lambda s: (s.start_ns, s.trace_id),
    "slowest": lambda s: (-s.duration_ns, s.trace_id),
    "fastest": lambda s: (s.duration_ns, s.trace_id),
    "most_spans": lambda s: (-s.span_count, -s.start_ns, s.trace_id),
    "most_errors": lambda s: (-s.error_span_count, -s.start_ns, s.trace_id),
    "root": lambda s: (s.root_service, s.root_operation, -s.start_ns, s.trace_id),
}


def check_page(sort: str, offset: int, limit: int) -> None:
    """``ValueError`` for an unknown sort or a negative offset or limit."""
    if sort not in _KEYS:
        raise ValueError(f"unknown sort {sort!r} (one of {', '.join(SORT_ORDERS)})")
    if offset < 0 or limit < 0:
        raise ValueError(f"offset and limit must not be negative, got {offset} and {limit}")


def summarize(trace_id: bytes, records: Iterable[SpanRecord]) -> TraceSummary | None:
    """The whole summary of a trace from its spans; None for a trace with no span.

    Reads only indexed fields (times, parent, service, name, status), never
    payloads, so plug-ins may pass records that carry those alone.
    """
    spans = list(records)
    if not spans:
        return None
    span_ids = {record.span_id for record in spans}
    services: dict[str, list[int]] = {}
    root: SpanRecord | None = None
    start = min(record.start_ns for record in spans)
    end = max(record.start_ns + record.duration_ns for record in spans)
    errors = orphans = 0
    for record in spans:
        counts = services.setdefault(record.service, [0, 0])
        counts[0] += 1
        if record.status_code == STATUS_ERROR:
            counts[1] += 1
            errors += 1
        if record.parent_span_id:
            orphans += record.parent_span_id not in span_ids
        elif root is None or (record.start_ns, record.span_id) < (root.start_ns, root.span_id):
            root = record
    return TraceSummary(
        trace_id,
        start,
        end - start,
        len(spans),
        root_service=root.service if root else "",
        root_operation=root.name if root else "",
        error_span_count=errors,
        orphan_span_count=orphans,
        services=tuple(ServiceSummary(name, *services[name]) for name in sorted(services)),
    )


def page_of(summaries: Iterable[TraceSummary], sort: str, offset: int, limit: int) -> tuple[int, list[TraceSummary]]:
    """(how many, the sorted page): sorts every summary, so it costs O(n log n) in the matches.

    The summaries need the fields ``sort`` reads filled (errors for ``most_errors``, the root for ``root``).
    """
    ordered = sorted(summaries, key=_KEYS[sort])
    return len(ordered), ordered[offset : offset + limit]
