"""The remote sampling endpoint (port 5778 by convention), as a Flask app over a strategy provider.

``/api/sampling``, ``/sampling`` and ``/`` answer the same protobuf JSON
(``"strategyType": "PROBABILISTIC"``), as Jaeger v2 does on every path.  The
``service`` parameter must be given exactly once; an unknown service gets
the default strategy.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request

from backend.sampling.strategies import StrategyProvider

log = logging.getLogger(__name__)


def create_app(provider: StrategyProvider) -> Flask:
    app = Flask("remote_sampling")

    def serve() -> Response | tuple[Response, int]:
        services = request.args.getlist("service")
        if len(services) != 1 or not services[0]:
            return _text("'service' parameter must be provided once", 400)
        try:
            strategy = provider.get_strategy(services[0])
        except Exception:  # noqa: BLE001 - report a provider failure as 500, never a dropped connection
            log.exception("sampling strategy for %r could not be computed", services[0])
            return _text("sampling strategy unavailable", 500)
        return jsonify(strategy.to_json())

    for path in ("/api/sampling", "/sampling", "/"):
        app.add_url_rule(path, path, serve, methods=["GET"])
    return app


def _text(message: str, status: int) -> tuple[Response, int]:
    return Response(message + "\n", mimetype="text/plain"), status
