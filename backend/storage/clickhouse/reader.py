"""The ``clickhouse`` plug-in's read side: whole traces, search, services, operations, dependencies.

A trace is found without a scan: ``trace_times`` (sorted by trace id) gives
its time window, which limits the read of ``spans`` to the partitions and
primary-key ranges of that window, where the bloom filter on ``trace_id``
skips the granules that do not hold it.  Search filters and orders in
ClickHouse and returns only trace ids; spans are read per trace afterwards.
Rows not yet merged by the ``ReplacingMergeTree`` may repeat a span, so
every read folds by ``(trace_id, span_id)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from backend.spans.model import KIND_NAMES, SpanRecord
from backend.storage.api import DependencyLink, Operation, Trace, TraceQuery, TraceSummary
from backend.storage.clickhouse.engine import Connection
from backend.storage.clickhouse.filters import Condition, hex_list, where
from backend.storage.clickhouse.schema import Layout
from backend.storage.clickhouse.span_rows import PAYLOAD_COLUMNS, from_payloads, records, text
from backend.storage.clickhouse.summaries import page_ids
from backend.storage.dependencies import sort_links
from backend.storage.matching import ProcessCache, matcher_for, newest_trace_ids
from backend.storage.summaries import check_page, summarize

_PROCESS_CACHE_LIMIT = 10_000
_INDEXED_COLUMNS = (
    "trace_id, span_id, parent_span_id, service, name, kind, start_ns, duration_ns, status_code, process_id"
)
_RECORD_COLUMNS = f"{_INDEXED_COLUMNS}, payload"
_WINDOW_SHARES = (16, 4)  # a search's newest sixteenth, then up to its newest quarter, then the rest
_WINDOW_GROWTH = 4  # how much more of the range the newest quarter covers than the newest sixteenth
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# ClickHouse compiles an expression, an aggregate or a sort to machine code once a statement of its shape has run
# three times: the fourth trace lookup of a process spent ~50 ms of CPU on it (4-6x a lookup), for statements that
# read ten rows, where compiled code saves nothing (``benchmarks/clickhouse_get_trace.py``).  Searches too: the
# fourth attribute search of a process spent ~35 ms more CPU (1 M spans), and compiled, the six searches of
# ``hotrod bench --dataset jaeger-clickhouse`` ran no faster at 10 M spans (their tests are array functions,
# which the JIT does not compile, and they sort what they keep, a few thousand rows).
NO_JIT = {"compile_expressions": 0, "compile_aggregate_expressions": 0, "compile_sort_description": 0}


class ClickHouseReader:
    def __init__(self, connection: Connection, layout: Layout) -> None:
        self._connection = connection
        self._layout = layout
        self._spans = layout.table("spans")
        self._operations = layout.table("operations")
        self._processes = layout.table("processes")
        self._process_cache: dict[bytes, bytes] = {}
        self._process_texts = ProcessCache()

    # Traces

    def get_trace(self, trace_id: bytes) -> Trace | None:
        return self._traces([trace_id]).get(trace_id)

    def find_traces(self, query: TraceQuery) -> list[Trace]:
        trace_ids = self.find_trace_ids(query)
        found = self._traces(trace_ids)
        return [found[trace_id] for trace_id in trace_ids if trace_id in found]

    def _traces(self, trace_ids: list[bytes]) -> dict[bytes, Trace]:
        """Spans rebuilt from their payloads (``span_rows``); a trace with a payload that cannot be, by its columns."""
        if not trace_ids:
            return {}
        spans, unreadable = from_payloads(self._rows_of(trace_ids, PAYLOAD_COLUMNS))
        if unreadable:
            spans += self._spans_of(sorted(unreadable), _RECORD_COLUMNS)
        traces: dict[bytes, Trace] = {}
        for record in spans:
            trace = traces.get(record.trace_id)
            if trace is None:
                trace = traces[record.trace_id] = Trace([], {})
            trace.spans.append(record)
        blobs = self._process_blobs({record.process_id for trace in traces.values() for record in trace.spans})
        for trace in traces.values():
            trace.processes = {r.process_id: blobs[r.process_id] for r in trace.spans if r.process_id in blobs}
        return traces

    def _spans_of(self, trace_ids: list[bytes], columns: str) -> list[SpanRecord]:
        """The traces' spans, each once, oldest first; ``columns`` without ``payload`` leaves payloads empty."""
        if not trace_ids:
            return []
        payload = "" if "payload" in columns else ", '' AS payload"
        return records(self._rows_of(trace_ids, f"{columns}{payload}"))

    def _rows_of(self, trace_ids: list[bytes], columns: str) -> pa.Table:
        """The traces' rows of ``spans`` (not none), each span once, oldest first."""
        ids = hex_list(trace_ids)
        return self._connection.arrow(
            f"WITH {self._layout.trace_window(f'trace_id IN ({ids})')} AS window"
            f" SELECT {columns} FROM {self._spans}"
            f" WHERE trace_id IN ({ids}) AND start_ns >= window.1 AND start_ns <= window.2"
            " ORDER BY start_ns LIMIT 1 BY trace_id, span_id",
            settings=NO_JIT,
        )

    def _process_blobs(self, process_ids: set[bytes]) -> dict[bytes, bytes]:
        """Cached: an id is a digest of its blob, so what is stored under it never changes."""
        missing = sorted(process_ids - self._process_cache.keys())
        if missing:
            rows = self._connection.arrow(
                f"SELECT id, any(blob) AS blob FROM {self._processes} WHERE id IN ({hex_list(missing)}) GROUP BY id",
                settings=NO_JIT,
            )
            if len(self._process_cache) > _PROCESS_CACHE_LIMIT:
                self._process_cache.clear()
            self._process_cache.update(zip(rows.column("id").to_pylist(), rows.column("blob").to_pylist(), strict=True))
        cache = self._process_cache
        return {pid: cache[pid] for pid in process_ids if pid in cache}

    # Search

    def find_trace_ids(self, query: TraceQuery) -> list[bytes]:
        if query.limit < 1:
            return []
        condition = where(query, self.processes_with)
        if not condition.exact:
            return self._confirmed(query, condition, query.limit)
        found: dict[bytes, None] = {}
        windows = newest_first(query.start_min_ns, query.start_max_ns)
        while windows:
            low, high = windows.pop(0)
            rows = self._connection.arrow(
                f"SELECT trace_id FROM {self._spans} {condition.clauses()}"
                " AND start_ns >= {window_low:Int64} AND start_ns <= {window_high:Int64}"
                f" ORDER BY start_ns DESC, trace_id LIMIT 1 BY trace_id LIMIT {int(query.limit)}",
                {**condition.params, "window_low": low, "window_high": high},
                settings=NO_JIT,
            )
            for trace_id in rows.column("trace_id").to_pylist():
                found.setdefault(trace_id)
            if len(found) >= query.limit:
                break
            if windows and len(found) * _WINDOW_GROWTH < query.limit:  # the next window would fall short too
                windows = [(windows[-1][0], windows[0][1])]
        return list(found)[: query.limit]

    def _confirmed(self, query: TraceQuery, condition: Condition, limit: int | None) -> list[bytes]:
        """Traces of the candidate spans that ``matcher_for`` confirms, newest first (see ``filters``)."""
        rows = self._connection.arrow(
            f"SELECT {_RECORD_COLUMNS} FROM {self._spans} {condition.clauses()}"
            " ORDER BY start_ns DESC, trace_id LIMIT 1 BY trace_id, span_id",
            condition.params,
            settings=NO_JIT,
        )
        matcher = matcher_for(query, self._process_texts, lambda pid: self._process_blobs({pid}).get(pid))
        candidates = records(rows)
        return newest_trace_ids(candidates, matcher, len(candidates) if limit is None else limit)

    def search_summaries(self, query: TraceQuery, sort: str, offset: int, limit: int) -> tuple[int, list[TraceSummary]]:
        check_page(sort, offset, limit)
        condition = where(query, self.processes_with)
        if not condition.exact:
            confirmed = self._confirmed(query, condition, None)
            condition = Condition(f"trace_id IN ({hex_list(confirmed)})" if confirmed else "0", {}, True)
        total, page = page_ids(self._connection, self._layout, condition.sql, condition.params, sort, offset, limit)
        spans: dict[bytes, list[SpanRecord]] = {trace_id: [] for trace_id in page}
        for record in self._spans_of(page, _INDEXED_COLUMNS):
            spans[record.trace_id].append(record)
        summaries = (summarize(trace_id, spans[trace_id]) for trace_id in page)
        return total, [summary for summary in summaries if summary is not None]

    def processes_with(self, key: str, text: str, levels: Sequence[str]) -> list[bytes]:
        """Processes whose attributes at ``levels`` (``resource``, ``scope``) have ``key`` with that text."""
        found = " OR ".join(
            f"arrayExists((k, v) -> k = {{key:String}} AND v = {{text:String}}, {level}_keys, {level}_values)"
            for level in levels
        )
        rows = self._connection.arrow(
            f"SELECT DISTINCT id FROM {self._processes} WHERE {found}", {"key": key, "text": text}
        )
        process_ids: list[bytes] = rows.column("id").to_pylist()
        return process_ids

    # Services and operations

    def get_services(self) -> list[str]:
        rows = self._connection.arrow(f"SELECT DISTINCT service FROM {self._operations} ORDER BY service")
        return [text(name) for name in rows.column("service").to_pylist()]

    def get_operations(self, service: str, span_kind: str | None = None) -> list[Operation]:
        rows = self._connection.arrow(
            f"SELECT DISTINCT name, kind FROM {self._operations} WHERE service = {{service:String}}",
            {"service": service},
        )
        operations = {
            Operation(text(name), KIND_NAMES.get(kind, ""))
            for name, kind in zip(rows.column("name").to_pylist(), rows.column("kind").to_pylist(), strict=True)
        }
        if span_kind:
            operations = {op for op in operations if op.span_kind == span_kind}
        return sorted(operations, key=lambda op: (op.name, op.span_kind))

    # Dependencies

    def get_dependencies(self, end_ns: int, lookback_ns: int) -> list[DependencyLink]:
        params: dict[str, Any] = {"start": end_ns - lookback_ns, "end": end_ns}
        window = "start_ns >= {start:Int64} AND start_ns <= {end:Int64} AND parent_span_id != ''"
        rows = self._connection.arrow(
            "SELECT parent.service AS parent, child.service AS child, count() AS calls FROM"
            f" (SELECT trace_id, span_id, parent_span_id, service FROM {self._spans} WHERE {window}"
            "  LIMIT 1 BY trace_id, span_id) AS child"
            f" INNER JOIN (SELECT trace_id, CAST(span_id AS String) AS span_id, service FROM {self._spans}"
            f"  WHERE trace_id IN (SELECT trace_id FROM {self._spans} WHERE {window})"
            "  LIMIT 1 BY trace_id, span_id) AS parent"
            " ON parent.trace_id = child.trace_id AND parent.span_id = child.parent_span_id"
            " WHERE parent.service != child.service GROUP BY parent, child",
            params,
        )
        columns = (rows.column(name).to_pylist() for name in ("parent", "child", "calls"))
        return sort_links(
            DependencyLink(text(parent), text(child), int(calls)) for parent, child, calls in zip(*columns, strict=True)
        )


def newest_first(start_min_ns: int | None, start_max_ns: int | None) -> list[tuple[int, int]]:
    """The search's time range as windows, newest first, each the next older stretch: (low, high), inclusive.

    A search wants the newest traces, but its spans are sorted by service
    first, so ``ORDER BY start_ns DESC`` sorts every match in the range before
    the limit applies.  Searched window by window, a search that finds its
    limit in the newest sixteenth of the range (its day partitions and
    primary-key ranges only) stops there; one that does not goes on to the
    rest of the newest quarter, then the rest, so it reads the range once over
    at most three statements.  ``find_trace_ids`` skips the quarter when the
    sixteenth found less than a quarter of the limit (four times the stretch
    would likely fall short too): a search for rare spans costs one statement
    more than a single one, not two.  Traces found in a newer window rank
    before any found only in an older one (a trace ranks by its newest
    matching span), so the result is the single statement's.  An open-ended
    range is one window.
    """
    if start_min_ns is None or start_max_ns is None:
        return [
            (_INT64_MIN if start_min_ns is None else start_min_ns, _INT64_MAX if start_max_ns is None else start_max_ns)
        ]
    windows: list[tuple[int, int]] = []
    high = start_max_ns
    for share in _WINDOW_SHARES:
        low = max(start_min_ns, start_max_ns - (start_max_ns - start_min_ns) // share)
        if low <= high:
            windows.append((low, high))
            high = low - 1
    if high >= start_min_ns:
        windows.append((start_min_ns, high))
    return windows
