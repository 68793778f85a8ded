"""The driver service's HTTP face: ``GET /drivers?location=x,y`` → the 10 nearest drivers."""

from __future__ import annotations

from flask import Flask, Response, abort, jsonify, request

from hotrod.driver.fleet import DriverUnavailable, Fleet, grid_to_lonlat
from hotrod.knobs import Knobs
from hotrod.service_app import create_app
from hotrod.telemetry import Telemetry


def build(fleet: Fleet, knobs: Knobs, telemetry: Telemetry) -> Flask:
    app = create_app("driver", knobs, telemetry)

    @app.get("/drivers")
    def find_nearest() -> Response:
        location = request.args.get("location", "")
        try:
            grid_to_lonlat(location)
        except ValueError as exc:
            abort(400, str(exc))
        try:
            drivers = fleet.find_nearest(location)
        except DriverUnavailable as exc:
            abort(503, str(exc))
        return jsonify(drivers=[{"driver_id": d.driver_id, "location": d.location} for d in drivers])

    return app
