"""``POST /api/transform``: OTLP/JSON in, Jaeger's trace JSON out, nothing stored.

Jaeger UI opens an OTLP file by posting it here (``readJsonFile`` →
``transformOTLP``), so our upload page and Jaeger's own UI both read OTLP
files through the same decoding and translation the stored traces go through.
The body is bounded (``QueryLimits.max_transform_bytes``) because it is
parsed whole in memory.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from backend.query.params import QueryLimits
from backend.query.responses import envelope, envelope_error, json_response
from backend.query.translate import trace_to_jaeger
from backend.spans.model import SpanBatch
from backend.spans.otlp import InvalidRequest, parse_json, to_batch
from backend.storage.api import Trace


def blueprint(limits: QueryLimits) -> Blueprint:
    api = Blueprint("transform_api", __name__, url_prefix="/api")

    @api.post("/transform")
    def transform() -> Response:
        size = request.content_length
        if size is None or size > limits.max_transform_bytes:
            limit = limits.max_transform_bytes
            return envelope_error(413, f"the body must be an OTLP/JSON file of at most {limit} bytes")
        try:
            decoded = to_batch(parse_json(request.get_data()))
        except InvalidRequest as exc:
            return envelope_error(400, str(exc))
        if decoded.rejected:
            return envelope_error(400, f"{decoded.rejected} span(s) have invalid ids: {decoded.error}")
        return json_response(envelope([trace_to_jaeger(trace) for trace in traces_of(decoded.batch)]))

    return api


def traces_of(batch: SpanBatch) -> list[Trace]:
    """The batch's spans grouped per trace, in the order each trace first appears."""
    grouped: dict[bytes, Trace] = {}
    for record in batch.spans:
        trace = grouped.get(record.trace_id)
        if trace is None:
            trace = grouped[record.trace_id] = Trace([], {})
        trace.spans.append(record)
        trace.processes[record.process_id] = batch.processes[record.process_id]
    return list(grouped.values())
