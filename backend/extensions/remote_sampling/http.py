"""The remote sampling endpoint (port 5778 by convention), as a Flask app over a strategy provider.

``/api/sampling`` and ``/sampling`` answer protobuf-style JSON
(``"strategyType": "PROBABILISTIC"``); ``/`` answers the numeric enum that
old Thrift 0.9.2 clients expect.  The ``service`` parameter must be given
exactly once; an unknown service gets the default strategy.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request

from backend.sampling.strategies import StrategyProvider

log = logging.getLogger(__name__)


def create_app(provider: StrategyProvider) -> Flask:
    app = Flask("remote_sampling")

    def serve(legacy: bool) -> Response | tuple[Response, int]:
        services = request.args.getlist("service")
        if len(services) != 1 or not services[0]:
            return _text("'service' parameter must be provided once", 400)
        try:
            strategy = provider.get_strategy(services[0])
        except Exception:  # noqa: BLE001 - report a provider failure as 500, never a dropped connection
            log.exception("sampling strategy for %r could not be computed", services[0])
            return _text("sampling strategy unavailable", 500)
        return jsonify(strategy.to_json(legacy=legacy))

    app.add_url_rule("/api/sampling", "api_sampling", lambda: serve(legacy=False), methods=["GET"])
    app.add_url_rule("/sampling", "sampling", lambda: serve(legacy=False), methods=["GET"])
    app.add_url_rule("/", "legacy_sampling", lambda: serve(legacy=True), methods=["GET"])
    return app


def _text(message: str, status: int) -> tuple[Response, int]:
    return Response(message + "\n", mimetype="text/plain"), status
