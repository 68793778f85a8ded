"""A ``TraceQuery`` as a ClickHouse WHERE clause over ``spans``, with its values as query parameters.

Tags follow ``backend.storage.matching``'s rule: ``key=value`` matches when
the span's own or its events' attributes have that text (``tag_keys`` and
``tag_values``), when its process's resource does (``processes``),
or when a field Jaeger shows as a tag says so (``span.kind``,
``otel.status_code``, ``error=true``).  Every tag must match on one span.
"""

from __future__ import annotations

from typing import Any

from backend.spans.model import KIND_BY_NAME, STATUS_ERROR, STATUS_OK
from backend.storage.api import TraceQuery
from backend.storage.clickhouse.schema import Layout
from backend.storage.matching import kind_filter

_STATUS_CODES = {"OK": STATUS_OK, "ERROR": STATUS_ERROR}


def where(query: TraceQuery, layout: Layout) -> tuple[str, dict[str, Any]]:
    """(condition, parameters); the condition is ``1`` when the query filters nothing."""
    conditions: list[str] = []
    params: dict[str, Any] = {}
    if query.service:
        conditions.append("service = {service:String}")
        params["service"] = query.service
    if query.operation:
        conditions.append("name = {operation:String}")
        params["operation"] = query.operation
    kind = kind_filter(query.span_kind)
    if kind is not None:
        conditions.append(f"kind = {kind}" if kind >= 0 else "0")
    for field, column, operator in (
        ("start_min_ns", "start_ns", ">="),
        ("start_max_ns", "start_ns", "<="),
        ("duration_min_ns", "duration_ns", ">="),
        ("duration_max_ns", "duration_ns", "<="),
    ):
        value = getattr(query, field)
        if value is not None:
            conditions.append(f"{column} {operator} {{{field}:Int64}}")
            params[field] = int(value)
    processes = layout.table("processes")
    for number, (key, value) in enumerate(sorted(query.tags.items())):
        k, v = f"{{key{number}:String}}", f"{{value{number}:String}}"
        params[f"key{number}"], params[f"value{number}"] = key, value
        options = [
            f"arrayExists((k, v) -> k = {k} AND v = {v}, tag_keys, tag_values)",
            f"process_id IN (SELECT id FROM {processes}"
            f" WHERE arrayExists((k, v) -> k = {k} AND v = {v}, resource_keys, resource_values))",
            *_derived(key, value),
        ]
        conditions.append(f"({' OR '.join(options)})")
    return " AND ".join(conditions) or "1", params


def _derived(key: str, value: str) -> list[str]:
    """Conditions on indexed fields for the tags Jaeger derives from them (see ``matching.derived_texts``)."""
    if key == "span.kind" and value in KIND_BY_NAME:
        return [f"kind = {KIND_BY_NAME[value]}"]
    if key == "otel.status_code" and value in _STATUS_CODES:
        return [f"status_code = {_STATUS_CODES[value]}"]
    if key == "error" and value == "true":
        return [f"status_code = {STATUS_ERROR}"]
    return []
