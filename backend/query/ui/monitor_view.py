"""``/monitor``: Jaeger's Monitor tab: per service, request rate, error % and latency quantiles over time.

The page is a server-rendered form (services from the span reader, escaped by
Jinja); ``monitor.js`` then asks ``/api/metrics/*`` on the same origin and
draws the charts and the operations table, inserting names only as text.
Lookbacks carry both the metrics API's milliseconds and the search page's
``lookback`` text, so an operation's row can open a search over the same period.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from backend.query.params import SPAN_KINDS
from backend.storage.api import SpanReader, StorageError

LOOKBACKS = [  # (search lookback, milliseconds, label)
    ("5m", 300_000, "Last 5 minutes"),
    ("15m", 900_000, "Last 15 minutes"),
    ("1h", 3_600_000, "Last hour"),
    ("2h", 7_200_000, "Last 2 hours"),
    ("6h", 21_600_000, "Last 6 hours"),
    ("12h", 43_200_000, "Last 12 hours"),
    ("24h", 86_400_000, "Last 24 hours"),
]
DEFAULT_LOOKBACK = "1h"


def register(ui: Blueprint, reader: SpanReader) -> None:
    @ui.get("/monitor")
    def monitor() -> tuple[str, int]:
        args = request.args
        lookback = args.get("lookback", DEFAULT_LOOKBACK)
        if lookback not in {value for value, _, _ in LOOKBACKS}:
            lookback = DEFAULT_LOOKBACK
        span_kind = args.get("spanKind", "server")
        if span_kind not in SPAN_KINDS:
            span_kind = "server"
        context = {"lookbacks": LOOKBACKS, "lookback": lookback, "span_kinds": SPAN_KINDS, "span_kind": span_kind}
        try:
            services = sorted(reader.get_services())
        except StorageError as exc:
            return render_template(
                "monitor.html", services=[], service="", error=f"storage error: {exc}", **context
            ), 500
        service = args.get("service", "")
        if service not in services:
            service = services[0] if services else ""
        return render_template("monitor.html", services=services, service=service, error=None, **context), 200
