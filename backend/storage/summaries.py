"""Sorting and paging trace summaries in Python, for plug-ins that cannot do it in their store.

One definition of each ``SORT_ORDERS`` key, so every plug-in orders ties the
same way (the SQL plug-in's ORDER BY mirrors these keys) and pages agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from backend.spans.model import SpanRecord
from backend.storage.api import SORT_ORDERS, TraceSummary

_KEYS: dict[str, Callable[[TraceSummary], tuple[int | bytes, ...]]] = {
    "newest": lambda s: (-s.start_ns, s.trace_id),
    "oldest": lambda s: (s.start_ns, s.trace_id),
    "slowest": lambda s: (-s.duration_ns, s.trace_id),
    "fastest": lambda s: (s.duration_ns, s.trace_id),
    "most_spans": lambda s: (-s.span_count, -s.start_ns, s.trace_id),
}


def check_page(sort: str, offset: int, limit: int) -> None:
    """``ValueError`` for an unknown sort or a negative offset or limit."""
    if sort not in _KEYS:
        raise ValueError(f"unknown sort {sort!r} (one of {', '.join(SORT_ORDERS)})")
    if offset < 0 or limit < 0:
        raise ValueError(f"offset and limit must not be negative, got {offset} and {limit}")


def summary_of(trace_id: bytes, times: Iterable[tuple[int, int]]) -> TraceSummary | None:
    """The summary of a trace from its spans' (start, duration); None for a trace with no span."""
    count = 0
    start = end = 0
    for span_start, span_duration in times:
        span_end = span_start + span_duration
        if not count:
            start, end = span_start, span_end
        else:
            start, end = min(start, span_start), max(end, span_end)
        count += 1
    return TraceSummary(trace_id, start, end - start, count) if count else None


def record_times(records: Iterable[SpanRecord]) -> Iterable[tuple[int, int]]:
    return ((record.start_ns, record.duration_ns) for record in records)


def page_of(summaries: Iterable[TraceSummary], sort: str, offset: int, limit: int) -> tuple[int, list[TraceSummary]]:
    """(how many, the sorted page): sorts every summary, so it costs O(n log n) in the matches."""
    ordered = sorted(summaries, key=_KEYS[sort])
    return len(ordered), ordered[offset : offset + limit]
