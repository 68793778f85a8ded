"""The ``clickhouse`` plug-in's write path: each batch becomes one columnar insert of its spans.

The pipeline already pulled out every indexed field (``SpanRecord``), so a
batch turns into Arrow columns with one list comprehension per column and no
Python object per row; the attribute texts for the ``tag_*`` columns are cut
out of the payloads in bulk (``tag_columns``).  New processes go to
their own table first (with their resource and scope attributes as tag texts), then
the spans in one INSERT.  The side tables are filled from the same Arrow columns
rather than by materialized views: each trace's first start and last end
(``trace_times``) by one Arrow group-by, and only operations not written before
(``operations``), which after the first batches is none.  Measured in
``benchmarks/clickhouse_insert.py``: the views cost the engine more CPU than the
group-by and the small insert, and each made a part per insert.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans

from backend.spans.model import SpanBatch, SpanRecord
from backend.storage.clickhouse.engine import Connection
from backend.storage.clickhouse.schema import Layout
from backend.storage.clickhouse.tag_columns import tag_columns
from backend.storage.clickhouse.tags import Tags, attribute_tags

K = TypeVar("K")
# Spans turned into columns at a time: the work per span grew with the batch past this (~3.2 us a span at 8,192,
# ~5.7 at 65,536: the bulk tag cut's buffers outgrow the caches), so a large batch is built in chunks.
CHUNK_SPANS = 8192
_KNOWN_LIMIT = 100_000  # processes or operations remembered as written; past it, forgotten and written again
_ID16 = pa.binary(16)
_ID8 = pa.binary(8)
_TEXTS = pa.list_(pa.string())
SPANS_SCHEMA = pa.schema(
    [
        ("trace_id", _ID16),
        ("span_id", _ID8),
        ("parent_span_id", pa.binary()),
        ("service", pa.string()),
        ("name", pa.string()),
        ("kind", pa.uint8()),
        ("status_code", pa.uint8()),
        ("start_ns", pa.int64()),
        ("duration_ns", pa.int64()),
        ("process_id", pa.binary()),
        ("tag_keys", _TEXTS),
        ("tag_values", _TEXTS),
        ("payload", pa.binary()),
    ]
)
TRACE_TIMES_SCHEMA = pa.schema([("trace_id", _ID16), ("first_ns", pa.int64()), ("last_ns", pa.int64())])
OPERATIONS_SCHEMA = pa.schema([("service", pa.string()), ("name", pa.string()), ("kind", pa.uint8())])
PROCESSES_SCHEMA = pa.schema(
    [
        ("id", pa.binary()),
        ("blob", pa.binary()),
        ("resource_keys", _TEXTS),
        ("resource_values", _TEXTS),
        ("scope_keys", _TEXTS),
        ("scope_values", _TEXTS),
    ]
)


class Known(Generic[K]):
    """Keys already written (processes, operations), so a batch inserts only new ones; forgotten past a bound.

    Forgetting costs one repeated row, which the table's ``ReplacingMergeTree`` folds.
    """

    def __init__(self) -> None:
        self._keys: set[K] = set()
        self._lock = threading.Lock()

    def new(self, keys: set[K]) -> set[K]:
        return keys - self._keys

    def add(self, keys: set[K]) -> None:
        with self._lock:
            if len(self._keys) + len(keys) > _KNOWN_LIMIT:
                self._keys.clear()
            self._keys.update(keys)


class ClickHouseWriter:
    def __init__(self, connection: Connection, layout: Layout) -> None:
        self._connection = connection
        self._spans = layout.table("spans")
        self._processes = layout.table("processes")
        self._trace_times = layout.table("trace_times")
        self._operations = layout.table("operations")
        self._known_processes: Known[bytes] = Known()
        self._known_operations: Known[tuple[str, str, int]] = Known()

    def write(self, batch: SpanBatch) -> None:
        """Returns once every table has the batch's rows: a search or a trace lookup then finds its spans."""
        spans = batch.spans
        if not spans:
            return
        new_processes = self._known_processes.new(set(batch.processes))
        if new_processes:
            self._connection.insert(
                self._processes, processes_table({pid: batch.processes[pid] for pid in new_processes})
            )
        table = spans_table(batch)
        self._connection.insert(self._spans, table)
        self._connection.insert(self._trace_times, trace_times_table(table))
        new_operations = self._known_operations.new({(r.service, r.name, r.kind) for r in spans})
        if new_operations:
            self._connection.insert(self._operations, operations_table(new_operations))
        self._known_processes.add(new_processes)
        self._known_operations.add(new_operations)

    def sync(self) -> None:
        """Nothing: the tables are created with ``fsync_after_insert`` and ``fsync_part_directory``
        (``schema._DURABLE_INSERTS``), so each insert returned only once its part was on disk."""


def spans_table(batch: SpanBatch) -> pa.Table:
    """The batch's span rows, built ``CHUNK_SPANS`` spans at a time into one table (one insert, one part)."""
    spans = batch.spans
    if len(spans) <= CHUNK_SPANS:
        return _spans_chunk(spans)
    return pa.concat_tables(
        [_spans_chunk(spans[start : start + CHUNK_SPANS]) for start in range(0, len(spans), CHUNK_SPANS)]
    )


def _spans_chunk(spans: list[SpanRecord]) -> pa.Table:
    payloads = [r.payload for r in spans]
    tags = tag_columns(payloads)
    if tags.order is not None:  # rows in the order of the tag lists (an insert's row order does not matter)
        spans = [spans[index] for index in tags.order]
        payloads = [r.payload for r in spans]
    columns = [
        pa.array([r.trace_id for r in spans], _ID16),
        pa.array([r.span_id for r in spans], _ID8),
        pa.array([r.parent_span_id for r in spans], pa.binary()),
        pa.array([r.service for r in spans], pa.string()),
        pa.array([r.name for r in spans], pa.string()),
        pa.array([r.kind for r in spans], pa.uint8()),
        pa.array([r.status_code for r in spans], pa.uint8()),
        pa.array([r.start_ns for r in spans], pa.int64()),
        pa.array([r.duration_ns for r in spans], pa.int64()),
        pa.array([r.process_id for r in spans], pa.binary()),
        tags.keys,
        tags.texts,
        pa.array(payloads, pa.binary()),
    ]
    return pa.Table.from_arrays(columns, schema=SPANS_SCHEMA)


def trace_times_table(spans: pa.Table) -> pa.Table:
    """Each trace's first start and last end among ``spans`` (``trace_times`` keeps the min and max of all)."""
    ends = pc.add(spans.column("start_ns"), spans.column("duration_ns"))
    times = pa.table({"trace_id": spans.column("trace_id"), "first_ns": spans.column("start_ns"), "last_ns": ends})
    grouped = times.group_by("trace_id", use_threads=False).aggregate([("first_ns", "min"), ("last_ns", "max")])
    return grouped.rename_columns(TRACE_TIMES_SCHEMA.names).cast(TRACE_TIMES_SCHEMA)


def operations_table(operations: set[tuple[str, str, int]]) -> pa.Table:
    rows = sorted(operations)
    return pa.Table.from_arrays(
        [
            pa.array([service for service, _, _ in rows], pa.string()),
            pa.array([name for _, name, _ in rows], pa.string()),
            pa.array([kind for _, _, kind in rows], pa.uint8()),
        ],
        schema=OPERATIONS_SCHEMA,
    )


def processes_table(processes: dict[bytes, bytes]) -> pa.Table:
    resource_tags: list[Tags] = []
    scope_tags: list[Tags] = []
    for blob in processes.values():
        holder = ResourceSpans.FromString(blob)
        resource: Tags = ([], [])
        attribute_tags(holder.resource.attributes, resource)
        resource_tags.append(resource)
        scope: Tags = ([], [])
        for scope_spans in holder.scope_spans:
            attribute_tags(scope_spans.scope.attributes, scope)
        scope_tags.append(scope)
    return pa.Table.from_arrays(
        [
            pa.array(list(processes), pa.binary()),
            pa.array(list(processes.values()), pa.binary()),
            pa.array([keys for keys, _ in resource_tags], _TEXTS),
            pa.array([texts for _, texts in resource_tags], _TEXTS),
            pa.array([keys for keys, _ in scope_tags], _TEXTS),
            pa.array([texts for _, texts in scope_tags], _TEXTS),
        ],
        schema=PROCESSES_SCHEMA,
    )
