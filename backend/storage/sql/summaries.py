"""The ``sql`` plug-in's sorted, counted search: trace summaries aggregated by the database.

Without tags, one ``GROUP BY trace_id`` over the spans of the matching
traces sorts and pages in SQL, and one ``COUNT`` of the distinct matching
trace ids gives the total; Python sees only the page.  Both read every span
in the window that passes the indexed filters (the ``(service_id,
start_ns)`` index narrows that) plus the spans of the matching traces (the
``(trace_id, span_id)`` index).  With tags, the caller matches in Python
first and hands the ids to ``page_of_ids``, which aggregates them in chunks.
The page's roots, errors and per-service counts come from one more read of
the page's spans' indexed columns (``complete``), never their payloads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Table, func, select

from backend.spans.model import SpanRecord
from backend.storage.api import TraceSummary
from backend.storage.summaries import page_of, summarize

_IDS_PER_STATEMENT = 500  # well under SQLite's bound-parameter limit


class SummaryQueries:
    def __init__(self, spans: Table) -> None:
        self._spans = spans
        self._start = func.min(spans.c.start_ns)
        self._end = func.max(spans.c.start_ns + spans.c.duration_ns)
        self._count = func.count()
        newest = (self._start.desc(), spans.c.trace_id)
        # Mirrors backend.storage.summaries' keys, so every plug-in breaks ties alike.
        self._orders = {
            "newest": newest,
            "oldest": (self._start, spans.c.trace_id),
            "slowest": ((self._end - self._start).desc(), spans.c.trace_id),
            "fastest": (self._end - self._start, spans.c.trace_id),
            "most_spans": (self._count.desc(), *newest),
        }

    def page(
        self,
        connection: Connection,
        service_ids: list[int],
        conditions: list[ColumnElement[bool]],
        sort: str,
        offset: int,
        limit: int,
    ) -> tuple[int, list[TraceSummary]]:
        spans = self._spans
        by_service = (
            spans.c.service_id.in_(service_ids) if len(service_ids) > 1 else spans.c.service_id == service_ids[0]
        )
        matching = select(spans.c.trace_id).where(by_service, *conditions).distinct()
        total = connection.execute(select(func.count()).select_from(matching.subquery())).scalar_one()
        if not total or not limit:
            return total, []
        statement = (
            self._aggregates()
            .where(spans.c.trace_id.in_(matching))
            .group_by(spans.c.trace_id)
            .order_by(*self._orders[sort])
            .offset(offset)
            .limit(limit)
        )
        return total, [_summary(row) for row in connection.execute(statement)]

    def page_of_ids(
        self, connection: Connection, trace_ids: list[bytes], sort: str, offset: int, limit: int
    ) -> tuple[int, list[TraceSummary]]:
        """Summaries of the given traces, sorted in Python (the ids come from a Python tag match)."""
        summaries: list[TraceSummary] = []
        for at in range(0, len(trace_ids), _IDS_PER_STATEMENT):
            chunk = trace_ids[at : at + _IDS_PER_STATEMENT]
            statement = self._aggregates().where(self._spans.c.trace_id.in_(chunk)).group_by(self._spans.c.trace_id)
            summaries.extend(_summary(row) for row in connection.execute(statement))
        return page_of(summaries, sort, offset, limit)

    def complete(
        self, connection: Connection, page: list[TraceSummary], operation: Callable[[int], tuple[str, str, int]]
    ) -> list[TraceSummary]:
        """The page's summaries with every field filled; ``operation`` names an operation id (service, name, kind)."""
        spans = self._spans
        columns = (
            spans.c.trace_id,
            spans.c.span_id,
            spans.c.parent_span_id,
            spans.c.operation_id,
            spans.c.start_ns,
            spans.c.duration_ns,
            spans.c.status_code,
        )
        by_trace: dict[bytes, list[SpanRecord]] = {summary.trace_id: [] for summary in page}
        for at in range(0, len(page), _IDS_PER_STATEMENT):
            chunk = [summary.trace_id for summary in page[at : at + _IDS_PER_STATEMENT]]
            for trace_id, span_id, parent, operation_id, start, duration, status in connection.execute(
                select(*columns).where(spans.c.trace_id.in_(chunk))
            ):
                service, name, kind = operation(operation_id)
                trace_id = bytes(trace_id)
                by_trace[trace_id].append(
                    SpanRecord(
                        trace_id, bytes(span_id), bytes(parent), service, name, kind, start, duration, status, b"", b""
                    )
                )
        completed = (summarize(trace_id, records) for trace_id, records in by_trace.items())
        return [summary for summary in completed if summary is not None]

    def _aggregates(self) -> Select[Any]:
        return select(self._spans.c.trace_id, self._start, self._end, self._count)


def _summary(row: Sequence[Any]) -> TraceSummary:
    trace_id, start, end, count = row
    return TraceSummary(bytes(trace_id), int(start), int(end) - int(start), int(count))
