"""The Flask app every HotROD service is built on, and how it is served.

``create_app`` gives each service what they all share (health, Prometheus metrics, JSON errors,
injected latency, the admin endpoints, tracing); ``serve`` runs it on the shared server loop.

Each app gets its own Prometheus registry, so four services in one process (``hotrod all``)
still expose four separate ``/metrics`` pages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, g, jsonify, request
from opentelemetry import trace
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from werkzeug.exceptions import HTTPException

from hotrod.admin import admin_blueprint
from hotrod.knobs import Knobs
from hotrod.telemetry import Telemetry
from httpd.limits import Limits
from httpd.wsgi_server import WsgiServer

log = logging.getLogger(__name__)

_UNTIMED = ("/health", "/metrics", "/admin/")


def create_app(service: str, knobs: Knobs, telemetry: Telemetry, peers: dict[str, str] | None = None) -> Flask:
    """A Flask app with the shared endpoints; the caller adds its service's routes."""
    app = Flask(f"hotrod.{service}", static_folder=None)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    registry = CollectorRegistry()
    app.extensions["hotrod.metrics"] = registry
    app.extensions["hotrod.knobs"] = knobs
    requests_total = Counter(
        "hotrod_http_requests", "HTTP requests served", ["service", "endpoint", "status"], registry=registry
    )
    latency = Histogram(
        "hotrod_http_request_duration_seconds", "HTTP request latency", ["service", "endpoint"], registry=registry
    )

    @app.before_request
    def start_and_maybe_stall() -> None:
        g.hotrod_started = time.perf_counter()
        if request.path.startswith(_UNTIMED):
            return
        extra_ms = knobs.values.extra_latency_ms.get(service, 0.0)
        if extra_ms > 0:
            trace.get_current_span().add_event("fault injected: extra latency", {"extra_latency_ms": extra_ms})
            time.sleep(extra_ms / 1000.0)

    @app.after_request
    def count(response: Response) -> Response:
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        requests_total.labels(service, endpoint, str(response.status_code)).inc()
        latency.labels(service, endpoint).observe(time.perf_counter() - g.get("hotrod_started", time.perf_counter()))
        return response

    @app.errorhandler(HTTPException)
    def json_error(exc: HTTPException) -> tuple[Response, int]:
        return jsonify(error=exc.description), exc.code or 500

    @app.get("/health")
    def health() -> Response:
        return jsonify(status="ok", service=service)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    app.register_blueprint(admin_blueprint(knobs, peers or {}))
    telemetry.instrument_app(app, service)
    return app


@dataclass
class RunningServer:
    name: str
    host: str
    port: int
    close: Callable[[], None]  # lets requests in progress finish (up to the grace period), then closes

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def serve(
    name: str, app: Flask, host: str, port: int, threads: int, grace_s: float = 5.0, limits: Limits | None = None
) -> RunningServer:
    """Serve ``app`` on ``host:port`` (0 = any free port), its event loop on a background thread."""
    server = WsgiServer(app, host, port, name=f"hotrod-{name}", threads=threads, limits=limits)
    try:
        server.start()
    except OSError as exc:
        flag = f"--{name}-port or HOTROD_{name.upper()}_PORT"
        reason = f"{exc.strerror or exc}; expected a free host:port (set it with {flag})"
        raise OSError(exc.errno, f"{name} cannot listen on {host}:{port}: {reason}") from exc
    actual_port = int(server.address.rsplit(":", 1)[1])
    log.info("listening", extra={"component": name, "address": f"http://{host}:{actual_port}"})
    return RunningServer(name, host, actual_port, lambda: server.stop(grace_s))
