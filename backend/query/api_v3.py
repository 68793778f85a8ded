"""``/api/v3/*``: Jaeger's HTTP gateway for api_v3, answering in OTLP/JSON.

Shapes as Jaeger's ``http_gateway.go``: traces as ``{"result": TracesData}``,
``{"summaries": [TraceSummary]}`` (what Jaeger UI >= 2.19 searches with),
``{"services": [...]}``, ``{"operations": [{"name", "spanKind"}]}``, and
errors as ``{"error": {"httpCode", "message"}}``; 404 ``No traces found``
when a trace search matches nothing (a summary search answers no summaries).
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from backend.query.otlp_json import traces_to_otlp_json
from backend.query.params import QueryLimits
from backend.query.responses import ApiError, answer_errors, json_response, v3_error
from backend.query.summaries_json import summaries_json
from backend.query.v3_params import parse_v3_search, parse_v3_span_kind, parse_v3_trace_id, parse_v3_trace_window
from backend.storage.api import SpanReader, Trace

NO_TRACES_FOUND = "No traces found"


def blueprint(reader: SpanReader, limits: QueryLimits) -> Blueprint:
    api = Blueprint("api_v3", __name__, url_prefix="/api/v3")

    answer_errors(api, v3_error)

    @api.get("/traces/<trace_id>")
    def get_trace(trace_id: str) -> Response:
        parsed = parse_v3_trace_id(trace_id)
        parse_v3_trace_window(request.args)
        trace = reader.get_trace(parsed)
        return _traces_response([trace] if trace is not None else [])

    @api.get("/traces")
    def find_traces() -> Response:
        return _traces_response(reader.find_traces(parse_v3_search(request.args, limits)))

    @api.get("/trace-summaries")
    def trace_summaries() -> Response:
        query = parse_v3_search(request.args, limits)
        _, page = reader.search_summaries(query, "newest", 0, query.limit)
        return json_response(summaries_json(page))

    @api.get("/services")
    def services() -> Response:
        return json_response({"services": sorted(reader.get_services())})

    @api.get("/operations")
    def operations() -> Response:
        service = request.args.get("service", "")
        if not service:
            raise ApiError(400, "malformed parameter service: a service name is required")
        found = reader.get_operations(service, parse_v3_span_kind(request.args))
        data = [{"name": operation.name, "spanKind": operation.span_kind or "internal"} for operation in found]
        return json_response({"operations": data})

    return api


def _traces_response(traces: list[Trace]) -> Response:
    traces = [trace for trace in traces if trace.spans]
    if not traces:
        return v3_error(404, NO_TRACES_FOUND)
    return json_response({"result": traces_to_otlp_json(traces)})
