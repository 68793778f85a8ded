"""Trace summaries as api_v3's ``FindTraceSummariesResponse`` in proto3 JSON, as Jaeger's gateway writes it.

proto3 JSON leaves out fields holding their default (0, "", an empty
list), writes int64 times as decimal strings, and the trace id as 32 hex
digits; Jaeger's snapshot ``FindTraceSummaries.json`` shows the result.
"""

from __future__ import annotations

from typing import Any

from backend.storage.api import ServiceSummary, TraceSummary


def summaries_json(summaries: list[TraceSummary]) -> dict[str, Any]:
    return _without_defaults({"summaries": [_summary(summary) for summary in summaries]})


def _summary(summary: TraceSummary) -> dict[str, Any]:
    return _without_defaults(
        {
            "traceId": summary.trace_id.hex(),
            "rootServiceName": summary.root_service,
            "rootOperationName": summary.root_operation,
            "minStartTimeUnixNano": str(summary.start_ns),
            "maxEndTimeUnixNano": str(summary.start_ns + summary.duration_ns),
            "spanCount": summary.span_count,
            "errorSpanCount": summary.error_span_count,
            "orphanSpanCount": summary.orphan_span_count,
            "services": [_service(service) for service in summary.services],
        }
    )


def _service(service: ServiceSummary) -> dict[str, Any]:
    return _without_defaults(
        {"name": service.name, "spanCount": service.span_count, "errorSpanCount": service.error_span_count}
    )


def _without_defaults(message: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in message.items() if value not in (0, "", "0", [])}
