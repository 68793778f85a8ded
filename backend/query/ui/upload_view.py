"""``/upload``: open a trace file in the browser and look at it with every trace view, storing nothing.

The page reads the file itself (upload.js): Jaeger JSON (``{"data": [...]}``)
is used as it is, OTLP/JSON goes through ``POST /api/transform`` as in Jaeger
UI.  The one thing the browser asks the server for is the critical path
(``POST /upload/critical-path`` with the trace's spans), so that an opened file
is analysed by the same code as a stored trace.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request

from backend.analysis.critical_path import critical_path
from backend.query.params import QueryLimits
from backend.query.responses import json_response


def register(ui: Blueprint, limits: QueryLimits) -> None:
    @ui.get("/upload")
    def upload() -> str:
        return render_template("upload.html")

    @ui.post("/upload/critical-path")
    def upload_critical_path() -> Response:
        size = request.content_length
        if size is None or size > limits.max_transform_bytes:
            return _refuse(413, f"the body must be a trace of at most {limits.max_transform_bytes} bytes")
        body = request.get_json(silent=True)
        spans = body.get("spans") if isinstance(body, dict) else None
        if not isinstance(spans, list) or not spans:
            return _refuse(400, 'the body must be {"spans": [...]} with the spans of one trace in Jaeger JSON')
        try:
            return json_response(critical_path(spans).as_json())
        except (KeyError, TypeError, AttributeError) as exc:
            return _refuse(400, f"a span lacks a field or has one of the wrong type: {exc!r}")


def _refuse(status: int, message: str) -> Response:
    answer: dict[str, Any] = {"error": message}
    return json_response(answer, status)
