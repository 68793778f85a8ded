"""The ``sql`` plug-in's read side: traces, search, services, operations and dependencies.

Search runs the indexed filters in SQL, newest first along the
``(service_id, start_ns)`` index, and streams rows: the first ``limit``
distinct traces end the scan, so a query costs about what it returns, not
what the window holds.  Tags are tested in Python by the shared
``TagMatcher`` on those streamed candidates only (tags and attribute filters alike).
When the tag index holds one of the query's tags (``tag_index``), the
candidates are the index's rows of that tag, one stream per searched
service, joined to their spans, newest first along the index: a tag that no
span of the service carries costs one index probe instead of the window.
"""

from __future__ import annotations

import heapq
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Engine, Row, Select, func, select
from sqlalchemy.exc import SQLAlchemyError

from backend.spans.model import KIND_NAMES, SpanRecord
from backend.storage.api import DependencyLink, Operation, StorageError, Trace, TraceQuery, TraceSummary
from backend.storage.dependencies import sort_links
from backend.storage.matching import ProcessCache, kind_filter, matcher_for, newest_trace_ids
from backend.storage.sql.catalog import Catalog
from backend.storage.sql.schema import Tables
from backend.storage.sql.summaries import SummaryQueries, span_head_columns
from backend.storage.sql.tag_index import TagIndex
from backend.storage.summaries import check_page

# Rows are streamed per statement, never by Connection.execution_options: that would switch every
# later query on the connection to a server-side cursor (on PostgreSQL).
_STREAMING = {"yield_per": 100}
_MERGED_SERVICES = 64
T = TypeVar("T")


class SqlReader:
    def __init__(self, engine: Engine, tables: Tables, catalog: Catalog, tag_index: TagIndex) -> None:
        self._engine = engine
        self._tag_index = tag_index
        self._tables = tables
        self._catalog = catalog
        self._process_cache = ProcessCache()
        self._summary_queries = SummaryQueries(tables, engine.dialect.name)
        spans = tables.spans
        self._record_columns = (*span_head_columns(spans), spans.c.process_id, spans.c.payload)

    def _connect(self) -> Connection:
        try:
            return self._engine.connect()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot connect to the trace database: {exc}") from exc

    # Traces

    def get_trace(self, trace_id: bytes) -> Trace | None:
        return self._read(lambda connection: self._traces(connection, [trace_id]).get(trace_id))

    def find_traces(self, query: TraceQuery) -> list[Trace]:
        def read(connection: Connection) -> list[Trace]:
            trace_ids = self._find(connection, query)
            found = self._traces(connection, trace_ids)
            return [found[trace_id] for trace_id in trace_ids if trace_id in found]

        return self._read(read)

    def find_trace_ids(self, query: TraceQuery) -> list[bytes]:
        return self._read(lambda connection: self._find(connection, query))

    def search_summaries(self, query: TraceQuery, sort: str, offset: int, limit: int) -> tuple[int, list[TraceSummary]]:
        check_page(sort, offset, limit)
        return self._read(lambda connection: self._summaries(connection, query, sort, offset, limit))

    def _read(self, work: Callable[[Connection], T]) -> T:
        with self._connect() as connection:
            try:
                return work(connection)
            except SQLAlchemyError as exc:
                raise StorageError(f"reading traces failed: {exc}") from exc

    def _traces(self, connection: Connection, trace_ids: list[bytes]) -> dict[bytes, Trace]:
        if not trace_ids:
            return {}
        spans, processes = self._tables.spans, self._tables.processes
        rows = connection.execute(select(*self._record_columns).where(spans.c.trace_id.in_(trace_ids)))
        traces: dict[bytes, Trace] = {}
        for row in rows:
            record = self._record(connection, row)
            trace = traces.get(record.trace_id)
            if trace is None:
                trace = traces[record.trace_id] = Trace([], {})
            trace.spans.append(record)
        process_ids = {record.process_id for trace in traces.values() for record in trace.spans}
        blobs = dict(
            connection.execute(select(processes.c.id, processes.c.blob).where(processes.c.id.in_(process_ids))).all()
        )
        for trace in traces.values():
            trace.spans.sort(key=lambda record: record.start_ns)
            trace.processes = {r.process_id: blobs[r.process_id] for r in trace.spans if r.process_id in blobs}
        return traces

    def _record(self, connection: Connection, row: Sequence[Any]) -> SpanRecord:
        trace_id, span_id, parent, operation_id, start, duration, status, process_id, payload = row
        service, name, kind = self._catalog.operation(connection, operation_id)
        return SpanRecord(
            bytes(trace_id),
            bytes(span_id),
            bytes(parent),
            service,
            name,
            kind,
            start,
            duration,
            status,
            bytes(process_id),
            bytes(payload),
        )

    # Search

    def _find(self, connection: Connection, query: TraceQuery) -> list[bytes]:
        if query.limit < 1:
            return []
        return self._find_up_to(connection, query, query.limit)

    def _find_up_to(self, connection: Connection, query: TraceQuery, limit: int) -> list[bytes]:
        found = self._filters(connection, query)
        if found is None:
            return []
        service_ids, conditions = found
        spans = self._tables.spans

        def by_start(columns: tuple[Any, ...]) -> Callable[[ColumnElement[bool]], Select[Any]]:
            return lambda service: select(*columns).where(service, *conditions).order_by(spans.c.start_ns.desc())

        with ExitStack() as results:
            if not query.matches_attributes:
                statement = by_start((spans.c.trace_id, spans.c.start_ns))
                rows = self._newest_first(connection, results, statement, spans.c.service_id, service_ids)
                return _distinct_first((row.trace_id for row in rows), limit)
            tag = self._indexed_tag(connection, query)
            if tag is None:
                statement = by_start(self._record_columns)
                rows = self._newest_first(connection, results, statement, spans.c.service_id, service_ids)
            else:
                window = (query.start_min_ns, query.start_max_ns)
                candidates = self._tag_index.candidates
                rows = self._newest_first(
                    connection,
                    results,
                    lambda service: candidates(self._record_columns, tag, window, service, conditions),
                    self._tables.span_tags.c.service_id,
                    service_ids,
                )
            matcher = matcher_for(query, self._process_cache, lambda pid: self._process_blob(connection, pid))
            return newest_trace_ids((self._record(connection, row) for row in rows), matcher, limit)

    def _indexed_tag(self, connection: Connection, query: TraceQuery) -> tuple[str, str] | None:
        """A tag of ``query`` whose every matching span the index holds, or None when only a scan is exact.

        The index holds span, event and link attributes; a tag that some
        process (resource or scope) carries matches every span of that process.
        """
        tag = self._tag_index.usable_tag(connection, query.tags, query.start_min_ns)
        if tag is None:
            return None
        processes = self._tables.processes
        load = lambda pid: self._process_blob(connection, pid)  # noqa: E731
        for (process_id,) in connection.execute(select(processes.c.id)):
            if self._process_cache.holds(bytes(process_id), load, *tag):
                return None
        return tag

    def _filters(self, connection: Connection, query: TraceQuery) -> tuple[list[int], list[ColumnElement[bool]]] | None:
        """The service ids to read and the SQL conditions on indexed fields; None when nothing can match."""
        spans = self._tables.spans
        if query.service:
            service_id = self._catalog.service_id(connection, query.service)
            service_ids = [] if service_id is None else [service_id]
        else:
            service_ids = sorted(self._catalog.services(connection).values())
        if not service_ids:
            return None
        conditions: list[ColumnElement[bool]] = []
        if query.operation or query.span_kind:
            operation_ids = self._matching_operations(connection, query)
            if not operation_ids:
                return None
            conditions.append(spans.c.operation_id.in_(operation_ids))
        if query.start_min_ns is not None:
            conditions.append(spans.c.start_ns >= query.start_min_ns)
        if query.start_max_ns is not None:
            conditions.append(spans.c.start_ns <= query.start_max_ns)
        if query.duration_min_ns is not None:
            conditions.append(spans.c.duration_ns >= query.duration_min_ns)
        if query.duration_max_ns is not None:
            conditions.append(spans.c.duration_ns <= query.duration_max_ns)
        return service_ids, conditions

    def _summaries(
        self, connection: Connection, query: TraceQuery, sort: str, offset: int, limit: int
    ) -> tuple[int, list[TraceSummary]]:
        found = self._filters(connection, query)
        if found is None:
            return 0, []
        if query.matches_attributes:
            # Tags are matched in Python, so every candidate span in the window is read and tested first.
            trace_ids = self._find_up_to(connection, query, sys.maxsize)
            total, page = self._summary_queries.page_of_ids(connection, trace_ids, sort, offset, limit)
        else:
            total, page = self._summary_queries.page(connection, *found, sort, offset, limit)
        return total, self._summary_queries.complete(
            connection, page, lambda operation_id: self._catalog.operation(connection, operation_id)
        )

    def _newest_first(
        self,
        connection: Connection,
        results: ExitStack,
        statement: Callable[[ColumnElement[bool]], Select[Any]],
        service_column: Any,
        service_ids: list[int],
    ) -> Iterator[Row[Any]]:
        """Rows newest first of ``statement`` (given its condition on ``service_column``), streamed.

        Several services are read as one stream each, merged here, so every
        stream ranges along its (service, start) index and stops early too;
        one ORDER BY over them all would sort the whole window first.  Past
        ``_MERGED_SERVICES`` one query is cheaper.
        """
        if len(service_ids) == 1 or len(service_ids) > _MERGED_SERVICES:
            where = service_column.in_(service_ids) if len(service_ids) > 1 else service_column == service_ids[0]
            return iter(results.enter_context(connection.execute(statement(where), execution_options=_STREAMING)))
        streams = [
            results.enter_context(
                connection.execute(statement(service_column == service_id), execution_options=_STREAMING)
            )
            for service_id in service_ids
        ]
        return heapq.merge(*streams, key=_row_start, reverse=True)

    def _matching_operations(self, connection: Connection, query: TraceQuery) -> list[int]:
        kind = kind_filter(query.span_kind)
        self._catalog.refresh(connection)
        return [
            operation_id
            for operation_id, (service, name, op_kind) in self._catalog.known_operations().items()
            if (not query.service or service == query.service)
            and (not query.operation or name == query.operation)
            and (kind is None or op_kind == kind)
        ]

    def _process_blob(self, connection: Connection, process_id: bytes) -> bytes | None:
        processes = self._tables.processes
        blob = connection.execute(select(processes.c.blob).where(processes.c.id == process_id)).scalar()
        return None if blob is None else bytes(blob)

    # Services and operations

    def get_services(self) -> list[str]:
        return self._read(lambda connection: sorted(self._catalog.services(connection)))

    def get_operations(self, service: str, span_kind: str | None = None) -> list[Operation]:
        pairs = self._read(lambda connection: self._catalog.operations_of(connection, service))
        operations = {Operation(name, KIND_NAMES.get(kind, "")) for name, kind in pairs}
        if span_kind:
            operations = {op for op in operations if op.span_kind == span_kind}
        return sorted(operations, key=lambda op: (op.name, op.span_kind))

    # Dependencies

    def get_dependencies(self, end_ns: int, lookback_ns: int) -> list[DependencyLink]:
        return self._read(lambda connection: self._dependencies(connection, end_ns - lookback_ns, end_ns))

    def _dependencies(self, connection: Connection, start_ns: int, end_ns: int) -> list[DependencyLink]:
        service_ids = sorted(self._catalog.services(connection).values())
        child = self._tables.spans.alias("child")
        parent = self._tables.spans.alias("parent")
        statement = (
            select(parent.c.service_id, child.c.service_id, func.count())
            .select_from(
                child.join(
                    parent, (parent.c.trace_id == child.c.trace_id) & (parent.c.span_id == child.c.parent_span_id)
                )
            )
            .where(
                child.c.service_id.in_(service_ids),
                child.c.start_ns >= start_ns,
                child.c.start_ns <= end_ns,
                parent.c.service_id != child.c.service_id,
            )
            .group_by(parent.c.service_id, child.c.service_id)
        )
        rows = connection.execute(statement).all()
        # Names after the query, so a service first seen meanwhile is known too.
        names = {service_id: name for name, service_id in self._catalog.services(connection).items()}
        return sort_links(DependencyLink(names[p], names[c], count) for p, c, count in rows)


def _row_start(row: Row[Any]) -> int:
    return int(row.start_ns)


def _distinct_first(trace_ids: Iterator[bytes], limit: int) -> list[bytes]:
    found: dict[bytes, None] = {}
    for trace_id in trace_ids:
        found[bytes(trace_id)] = None
        if len(found) >= limit:
            break
    return list(found)
