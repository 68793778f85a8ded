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

The ``root`` order reads each trace's root names with correlated subqueries
(the trace's parentless spans, earliest first, through the ``(trace_id,
span_id)`` index) and compares them byte by byte, as Python compares code
points: SQLite's ``BINARY`` collation, PostgreSQL's ``"C"``, never the
database's locale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Table, case, func, literal, select

from backend.spans.model import STATUS_ERROR, SpanRecord
from backend.storage.api import TraceSummary
from backend.storage.sql.schema import Tables
from backend.storage.summaries import page_of, summarize

_IDS_PER_STATEMENT = 500  # well under SQLite's bound-parameter limit


_BYTE_ORDER = {"sqlite": "BINARY", "postgresql": "C"}  # collations that compare text as Python compares str


def span_head_columns(spans: Table) -> tuple[ColumnElement[Any], ...]:
    """The ``spans`` columns a ``SpanRecord`` is made of, but for its process and payload (in this order)."""
    c = spans.c
    return (c.trace_id, c.span_id, c.parent_span_id, c.operation_id, c.start_ns, c.duration_ns, c.status_code)


class SummaryQueries:
    def __init__(self, tables: Tables, dialect: str) -> None:
        spans = self._spans = tables.spans
        self._start = func.min(spans.c.start_ns)
        self._end = func.max(spans.c.start_ns + spans.c.duration_ns)
        self._count = func.count()
        self._errors = func.count(case((spans.c.status_code == STATUS_ERROR, 1)))
        self._root = tuple(self._root_name(tables, name) for name in (tables.services.c.name, tables.operations.c.name))
        newest = (self._start.desc(), spans.c.trace_id)
        collation = _BYTE_ORDER[dialect]
        # Mirrors backend.storage.summaries' keys, so every plug-in breaks ties alike.
        self._orders = {
            "newest": newest,
            "oldest": (self._start, spans.c.trace_id),
            "slowest": ((self._end - self._start).desc(), spans.c.trace_id),
            "fastest": (self._end - self._start, spans.c.trace_id),
            "most_spans": (self._count.desc(), *newest),
            "most_errors": (self._errors.desc(), *newest),
            "root": (*(name.collate(collation) for name in self._root), *newest),
        }

    @staticmethod
    def _root_name(tables: Tables, column: Any) -> Any:
        """``column`` (a service or operation name) of the root of the trace of the group: "" when it has none."""
        spans, operations, services = tables.spans, tables.operations, tables.services
        root = spans.alias("root")
        named = root.join(operations, operations.c.id == root.c.operation_id).join(
            services, services.c.id == operations.c.service_id
        )
        first = (
            select(column)
            .select_from(named)
            .where(root.c.trace_id == spans.c.trace_id, root.c.parent_span_id == b"")
            .order_by(root.c.start_ns, root.c.span_id)
            .limit(1)
            .correlate(spans)
            .scalar_subquery()
        )
        return func.coalesce(first, literal(""))

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
            self._aggregates(sort)
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
            statement = self._aggregates(sort).where(self._spans.c.trace_id.in_(chunk)).group_by(self._spans.c.trace_id)
            summaries.extend(_summary(row) for row in connection.execute(statement))
        return page_of(summaries, sort, offset, limit)

    def complete(
        self, connection: Connection, page: list[TraceSummary], operation: Callable[[int], tuple[str, str, int]]
    ) -> list[TraceSummary]:
        """The page's summaries with every field filled; ``operation`` names an operation id (service, name, kind)."""
        spans = self._spans
        columns = span_head_columns(spans)
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

    def _aggregates(self, sort: str) -> Select[Any]:
        """Per trace: id, start, end, spans, errors, and its root's names when ``sort`` is by them (else "")."""
        root = self._root if sort == "root" else (literal(""), literal(""))
        return select(self._spans.c.trace_id, self._start, self._end, self._count, self._errors, *root)


def _summary(row: Sequence[Any]) -> TraceSummary:
    trace_id, start, end, count, errors, root_service, root_operation = row
    return TraceSummary(
        bytes(trace_id),
        int(start),
        int(end) - int(start),
        int(count),
        root_service=root_service,
        root_operation=root_operation,
        error_span_count=int(errors),
    )
