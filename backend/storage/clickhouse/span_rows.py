"""Span records from rows of ``spans``: from their columns, or rebuilt from their OTLP payloads.

A trace lookup reads six columns, not eleven (``from_payloads``): the parent id, name, kind, end time and
status are inside each span's payload, decoded here as skim spans (``backend.spans.otlp_skim``: only those
fields declared).  The engine saves ~1 ms of CPU a lookup; Python spends ~0.9 µs a span more than on the
columns, so a trace of up to a few hundred spans is cheaper to read so, a longer one dearer (docs/clickhouse.md,
``benchmarks/clickhouse_get_trace.py``).  The ids, the start (both needed by the statement's sort and fold), the
service (a resource attribute, not in the span) and the process id still come from columns.  A payload that does
not parse, or parses as another span (an empty one, say), is left to the caller, which reads those traces'
columns instead.
"""

from __future__ import annotations

import pyarrow as pa
from google.protobuf.message import DecodeError

from backend.spans.model import STATUS_UNSET, SpanRecord
from backend.spans.otlp_skim import SkimSpan


def text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


# What ``from_payloads`` needs from ``spans``, in this order.
PAYLOAD_COLUMNS = "trace_id, span_id, start_ns, service, process_id, payload"


def from_payloads(rows: pa.Table) -> tuple[list[SpanRecord], set[bytes]]:
    """The rows' span records (``PAYLOAD_COLUMNS``), and the traces that have a row whose payload cannot give them.

    A trace named in the second is left out of the first whole, so the caller can read it again by columns.
    """
    spans: list[SpanRecord] = []
    unreadable: set[bytes] = set()
    columns = [rows.column(name).to_pylist() for name in rows.column_names]
    for trace_id, span_id, start, service, process_id, payload in zip(*columns, strict=True):
        try:
            span = SkimSpan.FromString(payload)
        except DecodeError:
            unreadable.add(trace_id)
            continue
        if span.span_id != span_id or span.trace_id != trace_id:
            unreadable.add(trace_id)
            continue
        duration = max(span.end_time_unix_nano - start, 0)
        spans.append(
            SpanRecord(
                trace_id,
                span_id,
                span.parent_span_id,
                text(service),
                span.name,
                span.kind,
                start,
                duration,
                span.status.code if span.HasField("status") else STATUS_UNSET,
                process_id,
                payload,
            )
        )
    if unreadable:
        spans = [record for record in spans if record.trace_id not in unreadable]
    return spans, unreadable


def records(rows: pa.Table) -> list[SpanRecord]:
    """The rows' span records from their columns (``reader._INDEXED_COLUMNS`` and ``payload``, in that order)."""
    columns = [rows.column(name).to_pylist() for name in rows.column_names]
    return [
        SpanRecord(trace_id, span_id, parent, text(service), text(name), kind, start, duration, status, pid, payload)
        for trace_id, span_id, parent, service, name, kind, start, duration, status, pid, payload in zip(
            *columns, strict=True
        )
    ]
