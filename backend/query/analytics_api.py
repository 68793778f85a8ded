"""``/api/deep-dependencies`` and ``/api/quality-metrics``: Jaeger's endpoints, computed from stored traces.

Jaeger answers both with fixed demo data; here they read at most ``limit``
traces (default 100, at most the search limit) from the window asked for and
compute the answer (``backend.analysis``), in the JSON shapes Jaeger UI reads:
a bare object, not the ``{data: ...}`` envelope, as Jaeger writes them.  The
trace UI's pages for them call the same functions.  Traces are read newest
first, so a deep dependency path's exemplar traces are the newest that took it.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.datastructures import MultiDict

from backend.analysis.deep_dependencies import deep_dependencies
from backend.analysis.quality import quality_metrics
from backend.analysis.spans import nodes_from_records
from backend.query.params import QueryLimits, parse_dependencies, parse_integer
from backend.query.responses import ApiError, answer_errors, envelope_error, json_response
from backend.storage.api import SpanReader, Trace, TraceQuery

DEFAULT_TRACES = 100
DEFAULT_QUALITY_HOURS = 1
_HOUR_NS = 3_600_000_000_000


def _traces(reader: SpanReader, query: TraceQuery) -> list[Trace]:
    return [trace for trace in reader.find_traces(query) if trace.spans]


def _limit(args: MultiDict[str, str], limits: QueryLimits) -> int:
    limit = parse_integer(args, "limit")
    if limit is None:
        return DEFAULT_TRACES
    if not 1 <= limit <= limits.max_search_limit:
        raise ApiError(400, f"unable to parse param 'limit': expected 1 to {limits.max_search_limit}, got {limit}")
    return limit


def deep_dependencies_for(reader: SpanReader, args: MultiDict[str, str], limits: QueryLimits) -> dict[str, Any]:
    """``service`` (required), ``operation``, ``endTs`` and ``lookback`` (ms, as /api/dependencies), ``limit``."""
    service = args.get("service", "")
    if not service:
        raise ApiError(400, "parameter 'service' is required")
    operation = args.get("operation") or None
    end_ns, lookback_ns = parse_dependencies(args, time.time_ns(), limits)
    query = TraceQuery(service=service, operation=operation, start_min_ns=end_ns - lookback_ns, start_max_ns=end_ns,
                       limit=_limit(args, limits))  # fmt: skip
    traces = _traces(reader, query)
    pairs = ((trace.spans[0].trace_id.hex(), nodes_from_records(trace.spans)) for trace in traces)
    return deep_dependencies(pairs, service, operation)


def quality_metrics_for(reader: SpanReader, args: MultiDict[str, str], limits: QueryLimits) -> dict[str, Any]:
    """``service`` (optional: every service), ``hours`` back from now (default 1, as Jaeger UI sends it), ``limit``."""
    service = args.get("service") or None
    text = args.get("hours", "") or str(DEFAULT_QUALITY_HOURS)
    try:
        hours = float(text)
    except ValueError:
        raise ApiError(400, f"unable to parse param 'hours': {text[:40]!r} is not a number") from None
    if not 0 < hours <= 24 * 365:
        raise ApiError(400, f"unable to parse param 'hours': expected more than 0 and at most 8760, got {text[:40]}")
    limit = _limit(args, limits)
    now = time.time_ns()
    traces = _traces(reader, TraceQuery(service=service, start_min_ns=now - int(hours * _HOUR_NS), limit=limit))
    spans = sum(len(trace.spans) for trace in traces)
    scope = f"service {service}" if service else "all services"
    banner = f"Computed from {spans} spans in the {len(traces)} most recent traces of {scope} in the last {text} h"
    if len(traces) == limit:
        banner += f" (the limit of {limit} traces; raise 'limit' to read more)"
    return quality_metrics(traces, banner)


def blueprint(reader: SpanReader, limits: QueryLimits) -> Blueprint:
    api = Blueprint("analytics_api", __name__, url_prefix="/api")

    answer_errors(api, envelope_error, storage_status=500)

    @api.get("/deep-dependencies")
    def deep() -> Response:
        return json_response(deep_dependencies_for(reader, request.args, limits))

    @api.get("/quality-metrics")
    def quality() -> Response:
        return json_response(quality_metrics_for(reader, request.args, limits))

    return api
