"""``/quality-metrics``: Jaeger UI's Trace Quality page, from the same computation as ``/api/quality-metrics``.

Scores, each metric's pass / fail / exempt counts with example traces, and a
table per service; every value is escaped by Jinja's autoescaping.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from backend.query.analytics_api import quality_metrics_for
from backend.query.params import QueryLimits
from backend.query.responses import ApiError
from backend.storage.api import SpanReader

HOURS = [("1", "Last hour"), ("6", "Last 6 hours"), ("24", "Last day"), ("168", "Last 7 days")]


def register(ui: Blueprint, reader: SpanReader, limits: QueryLimits) -> None:
    @ui.get("/quality-metrics")
    def quality_metrics() -> tuple[str, int]:
        args = request.args
        context = {"services": sorted(reader.get_services()), "service": args.get("service", ""),
                   "hours_options": HOURS, "hours": args.get("hours", HOURS[0][0])}  # fmt: skip
        try:
            report = quality_metrics_for(reader, args, limits)
        except ApiError as exc:
            return render_template("quality_metrics.html", report=None, error=exc.message, **context), exc.status
        return render_template("quality_metrics.html", report=report, error=None, **context), 200
