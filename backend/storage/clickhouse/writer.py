"""The ``clickhouse`` plug-in's write path: each batch becomes one columnar insert.

The pipeline already pulled out every indexed field (``SpanRecord``), so a
batch turns into Arrow columns with one list comprehension per column and no
Python object per row; the attribute texts for the ``tag_*`` columns are cut
out of the payloads in bulk (``tag_columns``).  New processes go to
their own table first (with their resource and scope attributes as tag texts), then
the spans in one INSERT; the materialized views fill ``trace_times`` and
``operations`` from that same insert.
"""

from __future__ import annotations

import threading

import pyarrow as pa
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans

from backend.spans.model import SpanBatch
from backend.storage.clickhouse.engine import Connection
from backend.storage.clickhouse.schema import Layout
from backend.storage.clickhouse.tag_columns import tag_columns
from backend.storage.clickhouse.tags import Tags, attribute_tags

_KNOWN_PROCESSES_LIMIT = 100_000
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


class ClickHouseWriter:
    def __init__(self, connection: Connection, layout: Layout) -> None:
        self._connection = connection
        self._spans = layout.table("spans")
        self._processes = layout.table("processes")
        self._known_processes: set[bytes] = set()
        self._known_lock = threading.Lock()

    def write(self, batch: SpanBatch) -> None:
        spans = batch.spans
        if not spans:
            return
        new_processes = {pid: blob for pid, blob in batch.processes.items() if pid not in self._known_processes}
        if new_processes:
            self._connection.insert(self._processes, processes_table(new_processes))
        self._connection.insert(self._spans, spans_table(batch))
        if new_processes:
            with self._known_lock:
                if len(self._known_processes) > _KNOWN_PROCESSES_LIMIT:
                    self._known_processes.clear()
                self._known_processes.update(new_processes)


def spans_table(batch: SpanBatch) -> pa.Table:
    spans = batch.spans
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
