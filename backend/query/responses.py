"""JSON responses in the envelopes Jaeger's query service uses.

Bodies are serialized once with ``json.dumps`` (no per-object Flask
machinery: a 10,000-span trace is one big dict), and ``<``, ``>`` and ``&``
are escaped as Go's encoding/json does, so a span named ``<script>`` can never
become markup even if a client ignores the content type.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request

from backend.query.json_text import html_safe_json
from backend.storage.api import StorageError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A request the API refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_response(body: Any, status: int = 200) -> Response:
    """``body`` as JSON; ``?prettyPrint=true`` indents it, as Jaeger does."""
    pretty = request.args.get("prettyPrint", "") not in ("", "false")
    text = html_safe_json(body, indent=4 if pretty else None)
    response = Response(text, status=status, mimetype="application/json")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def envelope(data: Any, total: int = 0, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Jaeger's ``structuredResponse``: ``limit`` and ``offset`` are always 0 there too."""
    return {"data": data, "total": total, "limit": 0, "offset": 0, "errors": errors}


def envelope_error(status: int, message: str) -> Response:
    return json_response(envelope(None, errors=[{"code": status, "msg": message}]), status)


def v3_error(status: int, message: str) -> Response:
    """The grpc-gateway error shape that Jaeger's ``/api/v3`` answers with."""
    return json_response({"error": {"httpCode": status, "message": message}}, status)


def answer_errors(api: Blueprint, error: Callable[[int, str], Response], storage_status: int = 503) -> None:
    """Every API answers a refused request (``ApiError``) and a failing storage the same way, in its own shape.

    A storage failure is logged with the request's path: the client hears only that storage failed.
    """

    @api.errorhandler(ApiError)
    def refused(exc: ApiError) -> Response:
        return error(exc.status, exc.message)

    @api.errorhandler(StorageError)
    def storage_failed(exc: StorageError) -> Response:
        log.error("storage failed while serving %s: %s", request.path, exc)
        return error(storage_status, f"storage error: {exc}")
