"""``/dependencies``: the service map, as Jaeger UI names the page, laid out on the server."""

from __future__ import annotations

import time
from collections import defaultdict

from flask import Blueprint, render_template, request

from backend.query.params import QueryLimits, parse_dependencies
from backend.query.responses import ApiError
from backend.query.ui.service_map import layout
from backend.storage.api import DependencyLink, DependencyReader

LOOKBACKS_MS = [
    (3_600_000, "Last hour"),
    (6 * 3_600_000, "Last 6 hours"),
    (86_400_000, "Last day"),
    (7 * 86_400_000, "Last 7 days"),
]


def register(ui: Blueprint, dependencies: DependencyReader, limits: QueryLimits) -> None:
    @ui.get("/dependencies")
    def service_map() -> tuple[str, int]:
        lookback = request.args.get("lookback", str(limits.default_dependency_lookback_ns // 1_000_000))
        try:
            end_ns, lookback_ns = parse_dependencies(request.args, time.time_ns(), limits)
        except ApiError as exc:
            return render_template(
                "dependencies.html", error=exc.message, graph=None, links=[], lookbacks=LOOKBACKS_MS, lookback=lookback
            ), exc.status
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for link in dependencies.get_dependencies(end_ns, lookback_ns):
            counts[(link.parent, link.child)] += link.call_count
        links = [DependencyLink(parent, child, calls) for (parent, child), calls in sorted(counts.items())]
        return render_template(
            "dependencies.html", error=None, graph=layout(links), links=links, lookbacks=LOOKBACKS_MS, lookback=lookback
        ), 200
