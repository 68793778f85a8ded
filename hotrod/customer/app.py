"""The customer service's HTTP face: ``GET /customer?customer=ID``."""

from __future__ import annotations

from flask import Flask, Response, abort, jsonify, request

from hotrod.customer.database import CustomerDatabase
from hotrod.knobs import Knobs
from hotrod.service_app import create_app
from hotrod.telemetry import Telemetry


def parse_customer_id(raw: str | None) -> int:
    """The customer id of a query string, or a 400 that says what was wrong."""
    if raw is None or raw.strip() == "":
        abort(400, "missing required 'customer' parameter")
    try:
        return int(raw)
    except ValueError:
        abort(400, f"customer must be an integer, got {raw[:40]!r}")


def build(database: CustomerDatabase, knobs: Knobs, telemetry: Telemetry) -> Flask:
    app = create_app("customer", knobs, telemetry)

    @app.get("/customer")
    def get_customer() -> Response:
        customer_id = parse_customer_id(request.args.get("customer"))
        customer = database.get(customer_id)
        if customer is None:
            abort(404, f"unknown customer {customer_id}")
        return jsonify(id=customer.id, name=customer.name, location=customer.location)

    return app
