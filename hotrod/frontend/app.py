"""The frontend's HTTP face: the page, ``/config`` for it, and ``GET /dispatch?customer=ID``."""

from __future__ import annotations

import logging
from importlib import resources

from flask import Flask, Response, abort, jsonify, request
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from hotrod.customer.app import parse_customer_id
from hotrod.frontend.dispatch import BestETA
from hotrod.httpclient import ServiceError
from hotrod.knobs import Knobs
from hotrod.service_app import create_app
from hotrod.telemetry import Telemetry

log = logging.getLogger(__name__)

STATIC = resources.files("hotrod.frontend") / "static"
_TYPES = {"index.html": "text/html", "app.js": "text/javascript", "style.css": "text/css"}


def _failed(exc: ServiceError) -> None:
    """Mark the dispatch span failed with the downstream's words, then answer with its status."""
    span = trace.get_current_span()
    span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, str(exc)))
    log.error("Dispatch failed", extra={"error": str(exc)})
    status = exc.status if exc.status in (400, 404, 503) else 502
    abort(status, str(exc) if status != 404 else exc.message)


def build(best_eta: BestETA, knobs: Knobs, telemetry: Telemetry, trace_ui_url: str, peers: dict[str, str]) -> Flask:
    app = create_app("frontend", knobs, telemetry, peers)

    def asset(name: str) -> Response:
        body = (STATIC / name).read_bytes()
        return Response(body, mimetype=_TYPES[name], headers={"Cache-Control": "no-cache"})

    @app.get("/")
    def index() -> Response:
        return asset("index.html")

    @app.get("/static/<name>")
    def static_asset(name: str) -> Response:
        if name not in _TYPES:
            abort(404, f"no such asset {name!r}")
        return asset(name)

    @app.get("/config")
    def config() -> Response:
        return jsonify(trace_ui_url=trace_ui_url.rstrip("/"))

    @app.get("/dispatch")
    def dispatch() -> Response:
        customer_id = parse_customer_id(request.args.get("customer"))
        try:
            result = best_eta.get(customer_id)
        except ServiceError as exc:
            _failed(exc)
        return jsonify(
            driver=result.driver_id,
            eta_seconds=result.eta_seconds,
            customer_id=result.customer.id,
            customer_name=result.customer.name,
        )

    return app
