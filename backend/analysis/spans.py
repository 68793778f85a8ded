"""The span fields the analyses read, taken from stored records or from the UI's Jaeger JSON.

Times are microseconds, as Jaeger's JSON and the MCP tools give them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from backend.spans.model import KIND_NAMES, STATUS_ERROR, SpanRecord


@dataclass(frozen=True, slots=True)
class SpanNode:
    span_id: str  # 16 hex digits
    parent_id: str | None  # None for a root span
    service: str
    name: str
    start_us: int
    duration_us: int
    error: bool = False
    kind: str = ""  # "server", "client", ... as in ``KIND_NAMES``

    @property
    def end_us(self) -> int:
        return self.start_us + self.duration_us


def nodes_from_records(records: Iterable[SpanRecord]) -> list[SpanNode]:
    return [
        SpanNode(
            span_id=record.span_id.hex(),
            parent_id=record.parent_span_id.hex() if record.parent_span_id else None,
            service=record.service,
            name=record.name,
            start_us=record.start_ns // 1000,
            duration_us=record.duration_ns // 1000,
            error=record.status_code == STATUS_ERROR,
            kind=KIND_NAMES.get(record.kind, ""),
        )
        for record in records
    ]


def jaeger_parent_id(span: dict[str, Any]) -> str | None:
    """The span's parent in Jaeger's JSON: its first CHILD_OF reference within the same trace."""
    for reference in span["references"]:
        if reference["refType"] == "CHILD_OF" and reference["traceID"] == span["traceID"]:
            return str(reference["spanID"])
    return None


def nodes_from_jaeger(spans: list[dict[str, Any]]) -> list[SpanNode]:
    """Spans in Jaeger's JSON shape, as the trace page has them (service names live in the trace's processes)."""
    nodes = []
    for span in spans:
        tags = {tag["key"]: tag["value"] for tag in span.get("tags", ())}
        nodes.append(
            SpanNode(
                span_id=span["spanID"],
                parent_id=jaeger_parent_id(span),
                service="",
                name=span["operationName"],
                start_us=span["startTime"],
                duration_us=span["duration"],
                error=tags.get("error") is True,
                kind=str(tags.get("span.kind", "")),
            )
        )
    return nodes
