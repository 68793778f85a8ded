"""The query service's Flask application: ``/api/*`` and ``/api/v3/*`` as blueprints.

``/`` and ``/static`` are left free (no static folder) for the trace UI, which
registers its own blueprint on the same app.  Under ``/api`` every answer is
JSON, including unknown paths, wrong methods and unexpected failures, so a
client never has to parse an HTML error page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from backend.processors.spanmetrics.queries import MetricsReader
from backend.processors.tail_sampling.metrics import Collecting
from backend.query import analytics_api, api_v3, jaeger_api, metrics_api, tail_sampling_api, transform_api, ui
from backend.query.jaeger_ui import JaegerUi
from backend.query.jaeger_ui_view import blueprint as jaeger_ui_blueprint
from backend.query.params import QueryLimits
from backend.query.responses import envelope_error, v3_error
from backend.storage.api import DependencyReader, SpanReader

log = logging.getLogger(__name__)


def create_app(
    reader: SpanReader,
    dependencies: DependencyReader,
    *,
    limits: QueryLimits | None = None,
    metrics: MetricsReader | None = None,
    telemetry: Collecting | None = None,
    mcp: Callable[..., Any] | None = None,
    jaeger_ui: JaegerUi | None = None,
) -> Flask:
    """``telemetry``: the service's own metrics registry, where tail_sampling processors count their decisions
    (or the ingesting process's ``/metrics``, scraped, in a query process of its own).

    ``mcp``, when given, is the WSGI app of the MCP endpoint, mounted at ``/api/ai/mcp``.
    ``jaeger_ui``: serve that Jaeger UI build on ``/`` instead of our own UI.
    """
    limits = limits or QueryLimits()
    app = Flask(__name__, static_folder=None)
    if mcp is not None:
        from backend.query.mcp.endpoint import PATH

        app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {PATH: mcp})  # type: ignore[method-assign]
    app.register_blueprint(jaeger_api.blueprint(reader, dependencies, limits))
    app.register_blueprint(transform_api.blueprint(limits))
    app.register_blueprint(api_v3.blueprint(reader, limits))
    app.register_blueprint(metrics_api.blueprint(metrics))
    app.register_blueprint(tail_sampling_api.blueprint(telemetry))
    app.register_blueprint(analytics_api.blueprint(reader, limits))
    if jaeger_ui is None:
        app.register_blueprint(ui.blueprint(reader, dependencies, limits))
    else:
        app.register_blueprint(jaeger_ui_blueprint(jaeger_ui))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | HTTPException:
        return _api_error(error.code or 500, error.description or error.name) or error

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response | HTTPException:
        log.exception("unexpected error serving %s", request.path)
        return _api_error(500, "internal error (see the server log)") or InternalServerError()

    return app


def _api_error(status: int, message: str) -> Response | None:
    """The error in the API's own shape when the path is under ``/api``; ``None`` elsewhere."""
    path = request.path
    if path == "/api/v3" or path.startswith("/api/v3/"):
        return v3_error(status, message)
    if path == "/api" or path.startswith("/api/"):
        return envelope_error(status, message)
    return None
