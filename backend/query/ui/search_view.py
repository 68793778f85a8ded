"""``/search``: Jaeger UI's search URL, answered with a page of results over the whole match set.

The form's fields travel in the URL (``service``, ``operation``, ``tags``,
``lookback``, ``minDuration``, ``maxDuration``, ``limit``, plus ``sort``), so
a search can be shared and the HotROD page's "find trace" link lands here.
Storage is asked for up to ``QueryLimits.max_search_limit`` candidates;
extended tag terms filter them, and sorting and the total count cover all
of them, ``limit`` only cuts the list shown.  When the candidates reach that
cap, the page says the count is a lower bound.
"""

from __future__ import annotations

import dataclasses
import time

from flask import Blueprint, render_template, request
from werkzeug.datastructures import MultiDict

from backend.query.params import QueryLimits, parse_search
from backend.query.responses import ApiError
from backend.query.ui.scatter import plot
from backend.query.ui.summary import SORTS, sort_summaries, summarize
from backend.query.ui.tag_filter import parse_tag_expression
from backend.storage.api import SpanReader, StorageError

LOOKBACKS = [
    ("5m", "Last 5 minutes"),
    ("15m", "Last 15 minutes"),
    ("1h", "Last hour"),
    ("2h", "Last 2 hours"),
    ("6h", "Last 6 hours"),
    ("12h", "Last 12 hours"),
    ("24h", "Last 24 hours"),
    ("2d", "Last 2 days"),
    ("7d", "Last 7 days"),
]
DEFAULT_LOOKBACK = "1h"
DEFAULT_LIMIT = 20


def register(ui: Blueprint, reader: SpanReader, limits: QueryLimits) -> None:
    @ui.get("/search")
    def search() -> tuple[str, int]:
        args = request.args
        form = {
            "service": args.get("service", ""),
            "operation": args.get("operation", ""),
            "tags": args.get("tags", ""),
            "lookback": args.get("lookback", DEFAULT_LOOKBACK),
            "minDuration": args.get("minDuration", ""),
            "maxDuration": args.get("maxDuration", ""),
            "limit": args.get("limit", str(min(DEFAULT_LIMIT, limits.max_search_limit))),
            "sort": args.get("sort", "newest"),
        }
        context = {
            "form": form,
            "lookbacks": LOOKBACKS,
            "sorts": {k: v[0] for k, v in SORTS.items()},
            "error": None,
            "results": None,
        }
        try:
            context["services"] = sorted(reader.get_services())
            operations = reader.get_operations(form["service"]) if form["service"] else []
            context["operations"] = sorted({operation.name for operation in operations})
            if form["service"] or args.get("traceID"):
                context.update(_results(reader, limits, args, form))
        except ApiError as exc:
            context["error"] = exc.message
            return render_template("search.html", **context), exc.status
        except StorageError as exc:
            context["error"] = f"storage error: {exc}"
            return render_template("search.html", **context), 500
        return render_template("search.html", **context), 200


def _results(reader: SpanReader, limits: QueryLimits, args: MultiDict, form: dict[str, str]) -> dict:
    if form["sort"] not in SORTS:
        raise ApiError(400, f"unknown sort {form['sort']!r} (one of {', '.join(SORTS)})")
    expression = parse_tag_expression(form["tags"])
    plain_args = MultiDict([(key, value) for key, value in args.items(multi=True) if key not in ("tags", "sort")])
    plain_args.setdefault("lookback", DEFAULT_LOOKBACK)
    plain_args.setdefault("limit", form["limit"])
    request_ = parse_search(plain_args, time.time_ns(), limits)
    if request_.trace_ids:
        traces = [trace for trace in map(reader.get_trace, request_.trace_ids) if trace is not None]
        capped = False
    else:
        query = dataclasses.replace(
            request_.query, tags={**request_.query.tags, **expression.plain}, limit=limits.max_search_limit
        )
        traces = reader.find_traces(query)
        capped = len(traces) >= limits.max_search_limit
    matched = [summarize(trace) for trace in traces if trace.spans and expression.matches(trace)]
    ordered = sort_summaries(matched, form["sort"])
    return {
        "results": ordered[: request_.query.limit],
        "total": len(ordered),
        "capped": capped,
        "scan_limit": limits.max_search_limit,
        "plot": plot(ordered),
    }
