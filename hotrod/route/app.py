"""The route service's HTTP face: ``GET /route?pickup=x,y&dropoff=x,y``."""

from __future__ import annotations

import logging

from flask import Flask, Response, abort, jsonify, request
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from hotrod.knobs import Knobs
from hotrod.route.eta import RouteCalculator, RouteUnavailable
from hotrod.service_app import create_app
from hotrod.telemetry import Telemetry

log = logging.getLogger(__name__)


def build(knobs: Knobs, telemetry: Telemetry, delay_scale: float = 1.0) -> Flask:
    app = create_app("route", knobs, telemetry)
    calculator = RouteCalculator(knobs, app.extensions["hotrod.metrics"], delay_scale)

    @app.get("/route")
    def route() -> Response:
        pickup, dropoff = request.args.get("pickup"), request.args.get("dropoff")
        if not pickup or not dropoff:
            abort(400, "missing required 'pickup' and 'dropoff' parameters")
        try:
            result = calculator.compute(pickup, dropoff)
        except ValueError as exc:
            abort(400, str(exc))
        except RouteUnavailable as exc:
            span = trace.get_current_span()
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            log.error("route calculation failed", extra={"error": str(exc)})
            abort(503, str(exc))
        return jsonify(pickup=result.pickup, dropoff=result.dropoff, eta_seconds=result.eta_seconds)

    return app
