"""The ``clickhouse`` plug-in's sorted, counted search: trace summaries aggregated in ClickHouse.

The matching trace ids come from the span filters; their summaries are
aggregated over their spans, read within the window ``trace_times`` gives
for them (so the read is pruned like a trace lookup); ordering and paging
run in ClickHouse, with ties broken as ``backend.storage.summaries`` does.
The page's summaries are then filled by ``backend.storage.summaries.summarize``
from the indexed columns of its traces' spans (never their payloads).
"""

from __future__ import annotations

from typing import Any

from backend.spans.model import STATUS_ERROR
from backend.storage.clickhouse.engine import Connection
from backend.storage.clickhouse.schema import Layout

_ORDERS = {
    "newest": "first DESC, trace_id",
    "oldest": "first, trace_id",
    "slowest": "last - first DESC, trace_id",
    "fastest": "last - first, trace_id",
    "most_spans": "spans DESC, first DESC, trace_id",
    "most_errors": "errors DESC, first DESC, trace_id",
    "root": "root, first DESC, trace_id",  # a tuple of names, compared byte by byte as Python compares code points
}


def page_ids(
    connection: Connection, layout: Layout, condition: str, params: dict[str, Any], sort: str, offset: int, limit: int
) -> tuple[int, list[bytes]]:
    """(how many, the page's ids) of the traces that have a span matching ``condition`` (from ``filters.where``)."""
    spans = layout.table("spans")
    matching = f"SELECT DISTINCT trace_id FROM {spans} WHERE {condition}"
    total = connection.arrow(f"SELECT count() AS total FROM ({matching})", params).column("total")[0].as_py()
    if not total or not limit:
        return total, []
    rows = connection.arrow(
        f"WITH matching AS ({matching}), {layout.trace_window('trace_id IN matching')} AS window"
        " SELECT trace_id, min(start_ns) AS first, max(start_ns + duration_ns) AS last, uniqExact(span_id) AS spans,"
        # distinct ids: a span written twice stays two rows until the table merges them
        f" uniqExactIf(span_id, status_code = {STATUS_ERROR}) AS errors,"
        # the earliest parentless span's names; ('', '') when there is none, as summarize says
        " argMinIf((service, name), (start_ns, span_id), parent_span_id = '') AS root"
        f" FROM {spans} WHERE trace_id IN matching AND start_ns >= window.1 AND start_ns <= window.2"
        f" GROUP BY trace_id ORDER BY {_ORDERS[sort]} LIMIT {int(limit)} OFFSET {int(offset)}",
        params,
    )
    trace_ids: list[bytes] = rows.column("trace_id").to_pylist()
    return total, trace_ids
