"""``/deep-dependencies``: the paths of calls through one service (Jaeger UI's page name), from stored traces.

The same computation as ``/api/deep-dependencies``; the page lists each path
hop by hop with links to the traces that took it.  Every name is escaped by
Jinja's autoescaping.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from backend.query.analytics_api import deep_dependencies_for
from backend.query.params import QueryLimits
from backend.query.responses import ApiError
from backend.query.ui.map_view import LOOKBACKS_MS
from backend.storage.api import SpanReader


def register(ui: Blueprint, reader: SpanReader, limits: QueryLimits) -> None:
    @ui.get("/deep-dependencies")
    def deep_dependencies() -> tuple[str, int]:
        args = request.args
        services = sorted(reader.get_services())
        service = args.get("service", "")
        context = {"services": services, "service": service, "operation": args.get("operation", ""),
                   "lookbacks": LOOKBACKS_MS, "lookback": args.get("lookback", str(LOOKBACKS_MS[2][0]))}  # fmt: skip
        if not service:
            return render_template("deep_dependencies.html", paths=None, error=None, **context), 200
        try:
            paths = deep_dependencies_for(reader, args, limits)["dependencies"]
        except ApiError as exc:
            return render_template("deep_dependencies.html", paths=None, error=exc.message, **context), exc.status
        return render_template("deep_dependencies.html", paths=paths, error=None, **context), 200
