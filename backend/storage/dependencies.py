"""Service dependencies from parent/child spans, for plug-ins that compute them in Python."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from backend.spans.model import SpanRecord
from backend.storage.api import DependencyLink


def count_calls(traces: Iterable[Iterable[SpanRecord]], start_ns: int, end_ns: int) -> list[DependencyLink]:
    """One link per (parent service, child service) pair, counting child spans that start in the window.

    A call is a span whose parent (in the same trace) belongs to another service.
    """
    counts: Counter[tuple[str, str]] = Counter()
    for spans in traces:
        spans = list(spans)
        service_of = {record.span_id: record.service for record in spans}
        for record in spans:
            if not record.parent_span_id or not start_ns <= record.start_ns <= end_ns:
                continue
            parent_service = service_of.get(record.parent_span_id)
            if parent_service is not None and parent_service != record.service:
                counts[parent_service, record.service] += 1
    return sort_links(DependencyLink(parent, child, count) for (parent, child), count in counts.items())


def sort_links(links: Iterable[DependencyLink]) -> list[DependencyLink]:
    """The order every plug-in returns links in, so results compare equal across plug-ins."""
    return sorted(links, key=lambda link: (link.parent, link.child))
