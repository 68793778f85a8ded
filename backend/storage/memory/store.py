"""The ``memory`` plug-in: everything in Python dicts, bounded by a number of traces.

For demos and tests: nothing to set up, lost on restart.  When ``max_traces``
is reached, the trace that arrived first is dropped whole, so memory stays
bounded however long the backend runs.

Search walks a per-service index of spans by start time (``memory_index``)
newest first and stops once it has ``limit`` traces.

Concurrency: one lock guards every structure.  Writers hold it for a whole
batch (so a batch appears at once); readers hold it only to take snapshots
of the start indexes (a reference and a short copy, see ``memory_index``),
and sort, slice and test candidates (decoding payloads for tags) after
releasing it, so a long search never holds a write up.

The store lives in the backend's own process, so it cannot be shared with a
query process as the databases are (``--query-process auto`` keeps the query
API in process with it; ``on`` stops start-up saying so), and its searches
take the GIL from ingest.  So it refuses rather than let senders wait
(429 / RESOURCE_EXHAUSTED, ``BoundedWrites``): while the receiver's event loop
or worker pool is more than ``max_receive_lag`` behind (searches starving it, or more to
decode than it can), and past ``max_pending_spans`` waiting in the exporter's
sending queue (writes falling behind).  Senders retry later.
"""

from __future__ import annotations

import heapq
import sys
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass

from backend.core.binding import Duration
from backend.spans.model import KIND_NAMES, SpanBatch, SpanRecord
from backend.storage.api import DependencyLink, Operation, StorageError, Trace, TraceQuery, TraceSummary
from backend.storage.dependencies import sort_links
from backend.storage.factory import StoragePlugin
from backend.storage.matching import ProcessCache, indexed_match, kind_filter, matcher_for, newest_trace_ids
from backend.storage.memory.index import Snapshot, StartIndex
from backend.storage.memory.sampling import MemorySamplingStore
from backend.storage.summaries import check_page, page_of, summarize

_DEFAULT_LAG_NS = 250_000_000


@dataclass
class MemoryOptions:
    max_traces: int = 100_000
    #: spans waiting to be written (the exporter's sending queue) past which senders are refused (429)
    max_pending_spans: int = 50_000
    #: how far the receiver's event loop or worker pool may fall behind (about how long a sender waits
    #: for its answer, ``backend.core.lag``) before senders are refused (429); 0 never refuses for it
    max_receive_lag: Duration = Duration(_DEFAULT_LAG_NS)

    def __post_init__(self) -> None:
        if self.max_traces < 1:
            raise ValueError(f"max_traces must be at least 1, got {self.max_traces}")
        if self.max_pending_spans < 1:
            raise ValueError(f"max_pending_spans must be at least 1, got {self.max_pending_spans}")
        if self.max_receive_lag < 0:
            raise ValueError(f"max_receive_lag must not be negative, got {self.max_receive_lag}")


class _StoredTrace:
    __slots__ = ("spans", "process_ids")

    def __init__(self) -> None:
        self.spans: dict[bytes, SpanRecord] = {}
        self.process_ids: set[bytes] = set()


class MemoryStorage:
    """Writer, reader and dependency reader in one object (``writer()`` etc. return it)."""

    def __init__(self, options: MemoryOptions | None = None) -> None:
        options = options or MemoryOptions()
        self._max_traces = options.max_traces
        self.max_pending_spans = options.max_pending_spans
        self.max_receive_lag = int(options.max_receive_lag)
        self._lock = threading.Lock()
        self._traces: OrderedDict[bytes, _StoredTrace] = OrderedDict()
        self._by_service: dict[str, StartIndex] = {}
        self._processes: dict[bytes, bytes] = {}
        self._process_refs: dict[bytes, int] = {}  # how many stored traces use each process
        self._operations: dict[str, dict[Operation, None]] = {}
        self._known_operations: set[tuple[str, str, int]] = set()
        self._process_cache = ProcessCache()
        self._sampling = MemorySamplingStore()

    # Storage

    def writer(self) -> MemoryStorage:
        return self

    def reader(self) -> MemoryStorage:
        return self

    def dependency_reader(self) -> MemoryStorage:
        return self

    def sampling_store(self) -> MemorySamplingStore:
        return self._sampling

    def purge_expired(self, now_ns: int) -> int:
        """Nothing expires by age here: ``max_traces`` bounds the store instead."""
        return 0

    def close(self) -> None:
        with self._lock:
            self._traces.clear()
            self._by_service.clear()
            self._processes.clear()
            self._process_refs.clear()

    # SpanWriter

    def write(self, batch: SpanBatch) -> None:
        with self._lock:
            blobs = batch.processes
            outside = {r.process_id for r in batch.spans} - blobs.keys()
            if outside:
                # Spans may refer to processes stored earlier; keep their blobs in case eviction drops them.
                missing = outside - self._processes.keys()
                if missing:
                    raise StorageError(f"batch refers to {len(missing)} process id(s) it does not carry")
                blobs = {**blobs, **{pid: self._processes[pid] for pid in outside}}
            self._add_spans(batch.spans, blobs)
            self._add_operations({(r.service, r.name, r.kind) for r in batch.spans} - self._known_operations)

    def sync(self) -> None:
        """Nothing: the memory store keeps nothing across a restart, so there is nothing a power cut could roll back
        that a clean stop would have kept."""

    def _add_spans(self, records: list[SpanRecord], blobs: dict[bytes, bytes]) -> None:
        """One loop with the lookups held in locals: this is the memory store's share of ingest CPU."""
        traces = self._traces
        by_service = self._by_service
        process_refs = self._process_refs
        for record in records:
            trace_id = record.trace_id
            stored = traces.get(trace_id)
            if stored is None:
                if len(traces) >= self._max_traces:
                    self._evict_oldest()
                stored = traces[trace_id] = _StoredTrace()
            elif record.span_id in stored.spans:
                continue
            stored.spans[record.span_id] = record
            process_id = record.process_id
            if process_id not in stored.process_ids:
                stored.process_ids.add(process_id)
                refs = process_refs.get(process_id, 0)
                if not refs:
                    self._processes[process_id] = blobs[process_id]
                process_refs[process_id] = refs + 1
            index = by_service.get(record.service)
            if index is None:
                index = by_service[record.service] = StartIndex()
            index.add(record)

    def _add_operations(self, keys: set[tuple[str, str, int]]) -> None:
        for service, name, kind in keys:
            self._known_operations.add((service, name, kind))
            self._operations.setdefault(service, {})[Operation(name, KIND_NAMES.get(kind, ""))] = None

    def _evict_oldest(self) -> None:
        trace_id, stored = self._traces.popitem(last=False)
        for record in stored.spans.values():
            self._by_service[record.service].stale += 1
        for service in {record.service for record in stored.spans.values()}:
            self._by_service[service].compact_if_stale(self._is_stored)
        for process_id in stored.process_ids:
            refs = self._process_refs[process_id] - 1
            if refs:
                self._process_refs[process_id] = refs
            else:
                del self._process_refs[process_id]
                del self._processes[process_id]

    # SpanReader

    def get_trace(self, trace_id: bytes) -> Trace | None:
        with self._lock:
            stored = self._traces.get(trace_id)
            if stored is None:
                return None
            spans = list(stored.spans.values())
            processes = {pid: self._processes[pid] for pid in stored.process_ids}
        spans.sort(key=lambda record: record.start_ns)
        return Trace(spans, processes)

    def find_trace_ids(self, query: TraceQuery) -> list[bytes]:
        return self._matching(query, query.limit)

    def search_summaries(self, query: TraceQuery, sort: str, offset: int, limit: int) -> tuple[int, list[TraceSummary]]:
        """Visits every matching span in the window and every span of the matching traces."""
        check_page(sort, offset, limit)
        summaries = []
        for trace_id in self._matching(query, sys.maxsize):
            with self._lock:
                stored = self._traces.get(trace_id)
                spans = list(stored.spans.values()) if stored is not None else []
            summary = summarize(trace_id, spans)
            if summary is not None:
                summaries.append(summary)
        return page_of(summaries, sort, offset, limit)

    def _matching(self, query: TraceQuery, limit: int) -> list[bytes]:
        kind = kind_filter(query.span_kind)
        with self._lock:
            if query.service:
                indexes = [self._by_service[query.service]] if query.service in self._by_service else []
            else:
                indexes = list(self._by_service.values())
            snapshots = [index.snapshot() for index in indexes]
        windows = self._windows(snapshots, query.start_min_ns, query.start_max_ns)
        newest_first = heapq.merge(*(reversed(window) for window in windows), key=_start, reverse=True)
        candidates = (r for r in newest_first if indexed_match(r, query, kind) and self._is_stored(r))
        matcher = matcher_for(query, self._process_cache, self._process_blob)
        return newest_trace_ids(candidates, matcher, limit)

    def _windows(
        self, snapshots: list[Snapshot], start_min_ns: int | None, start_max_ns: int | None
    ) -> list[list[SpanRecord]]:
        """Each snapshot's window, outside the lock; a long tail merged here is offered back to its index."""
        windows = []
        for snapshot in snapshots:
            merged = snapshot.merged()
            if merged is not None:
                with self._lock:
                    snapshot.index.install(snapshot, *merged)
                snapshot = Snapshot(snapshot.index, *merged, [])
            windows.append(snapshot.window(start_min_ns, start_max_ns))
        return windows

    def _is_stored(self, record: SpanRecord) -> bool:
        """False for an index entry whose trace was evicted (safe without the lock: single dict reads)."""
        stored = self._traces.get(record.trace_id)
        return stored is not None and stored.spans.get(record.span_id) is record

    def _process_blob(self, process_id: bytes) -> bytes | None:
        with self._lock:
            return self._processes.get(process_id)

    def find_traces(self, query: TraceQuery) -> list[Trace]:
        traces = (self.get_trace(trace_id) for trace_id in self.find_trace_ids(query))
        return [trace for trace in traces if trace is not None]

    def get_services(self) -> list[str]:
        with self._lock:
            return sorted(self._operations)

    def get_operations(self, service: str, span_kind: str | None = None) -> list[Operation]:
        with self._lock:
            operations = list(self._operations.get(service, ()))
        if span_kind:
            operations = [op for op in operations if op.span_kind == span_kind]
        return sorted(operations, key=lambda op: (op.name, op.span_kind))

    # DependencyReader

    def get_dependencies(self, end_ns: int, lookback_ns: int) -> list[DependencyLink]:
        """Only spans starting in the window are visited (through the start index), not every trace."""
        with self._lock:
            snapshots = [index.snapshot() for index in self._by_service.values()]
        windows = self._windows(snapshots, end_ns - lookback_ns, end_ns)
        counts: Counter[tuple[str, str]] = Counter()
        for window in windows:
            for record in window:
                if not record.parent_span_id:
                    continue
                stored = self._traces.get(record.trace_id)
                parent = stored.spans.get(record.parent_span_id) if stored is not None else None
                if parent is not None and parent.service != record.service and self._is_stored(record):
                    counts[parent.service, record.service] += 1
        return sort_links(DependencyLink(parent, child, count) for (parent, child), count in counts.items())


def _start(record: SpanRecord) -> int:
    return record.start_ns


PLUGIN = StoragePlugin(MemoryOptions, lambda options, _where: MemoryStorage(options))
