"""``/api/*``: the endpoints the Jaeger UI calls, with Jaeger's envelope and status codes.

Behaviour follows Jaeger's ``http_handler.go``: 400 with the envelope's
``errors`` for a bad parameter, 404 ``trace not found`` for a missing trace,
200 with per-trace ``errors`` entries when some ids of a multi-get are
missing.  ``total`` is filled only where Jaeger fills it (services,
operations).
"""

from __future__ import annotations

import time
from collections import defaultdict

from flask import Blueprint, Response, request

from backend.query.params import (
    QueryLimits,
    parse_dependencies,
    parse_integer,
    parse_search,
    parse_span_kind,
    parse_trace_id,
)
from backend.query.responses import ApiError, answer_errors, envelope, envelope_error, json_response
from backend.query.translate import jaeger_trace_id, trace_to_jaeger
from backend.storage.api import DependencyReader, SpanReader

TRACE_NOT_FOUND = "trace not found"


def blueprint(reader: SpanReader, dependencies: DependencyReader, limits: QueryLimits) -> Blueprint:
    api = Blueprint("jaeger_api", __name__, url_prefix="/api")

    answer_errors(api, envelope_error)

    @api.get("/services")
    def services() -> Response:
        names = sorted(reader.get_services())
        return json_response(envelope(names, total=len(names)))

    @api.get("/services/<path:service>/operations")
    def operation_names(service: str) -> Response:
        names = sorted({operation.name for operation in reader.get_operations(service)})
        return json_response(envelope(names, total=len(names)))

    @api.get("/operations")
    def operations() -> Response:
        service = request.args.get("service", "")
        if not service:
            raise ApiError(400, "parameter 'service' is required")
        found = reader.get_operations(service, parse_span_kind(request.args, "spanKind"))
        data = [{"name": operation.name, "spanKind": operation.span_kind} for operation in found]
        return json_response(envelope(data, total=len(data)))

    @api.get("/traces")
    def search() -> Response:
        search = parse_search(request.args, time.time_ns(), limits)
        errors = None
        if search.trace_ids:
            traces = []
            for trace_id in search.trace_ids:
                trace = reader.get_trace(trace_id)
                if trace is None or not trace.spans:
                    errors = errors or []
                    errors.append({"msg": TRACE_NOT_FOUND, "traceID": jaeger_trace_id(trace_id)})
                else:
                    traces.append(trace)
        else:
            traces = [trace for trace in reader.find_traces(search.query) if trace.spans]
        return json_response(envelope([trace_to_jaeger(trace) for trace in traces], errors=errors))

    @api.get("/traces/<trace_id>")
    def get_trace(trace_id: str) -> Response:
        parsed = parse_trace_id(trace_id)
        # start/end are lookup hints in Jaeger (for storages partitioned by time); ours read by id,
        # but malformed values are still refused as Jaeger refuses them.
        parse_integer(request.args, "start")
        parse_integer(request.args, "end")
        trace = reader.get_trace(parsed)
        if trace is None or not trace.spans:
            return envelope_error(404, TRACE_NOT_FOUND)
        return json_response(envelope([trace_to_jaeger(trace)]))

    @api.get("/dependencies")
    def dependency_links() -> Response:
        end_ns, lookback_ns = parse_dependencies(request.args, time.time_ns(), limits)
        service = request.args.get("service", "")
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for link in dependencies.get_dependencies(end_ns, lookback_ns):
            if not service or service in (link.parent, link.child):
                counts[(link.parent, link.child)] += link.call_count
        data = [{"parent": parent, "child": child, "callCount": count} for (parent, child), count in counts.items()]
        return json_response(envelope(data))

    return api
