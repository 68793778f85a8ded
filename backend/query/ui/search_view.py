"""``/search``: Jaeger UI's search URL, answered with a page of results over the whole match set.

The form's fields travel in the URL (``service``, ``operation``, ``tags``,
``lookback``, ``minDuration``, ``maxDuration``, ``limit``, plus ``sort`` and
``view``: ``list`` or ``table``, whose column heads pick the sort), so
a search can be shared and the HotROD page's "find trace" link lands here.
Storage sorts, counts and pages the matches (``search_summaries``), so
order and total cover every match however many there are; ``offset`` and
``limit`` pick the page, and only that page's traces are read whole.

Extended tag terms (``!=``, presence, ``|``) are not storage queries: they
are tested on the whole traces of the first ``QueryLimits.max_search_limit``
matches, in the chosen order.  When storage has more matches than that, the
page counts the untested ones as matches and says the total is "at most".
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from flask import Blueprint, render_template, request
from werkzeug.datastructures import MultiDict

from backend.query.params import QueryLimits, parse_search
from backend.query.responses import ApiError
from backend.query.ui.scatter import plot
from backend.query.ui.summary import SORTS, TraceSummary, summarize
from backend.query.ui.tag_filter import TagExpression, parse_tag_expression
from backend.storage.api import SpanReader, StorageError, Trace, TraceQuery

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
VIEWS = ("list", "table")  # ``?view=``: the results as a list (with the scatter plot) or as a table


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
            "offset": args.get("offset", "0"),
            "view": args.get("view", "list"),
        }
        context: dict[str, Any] = {
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


def _results(
    reader: SpanReader, limits: QueryLimits, args: MultiDict[str, str], form: dict[str, str]
) -> dict[str, Any]:
    if form["sort"] not in SORTS:
        raise ApiError(400, f"unknown sort {form['sort']!r} (one of {', '.join(SORTS)})")
    if form["view"] not in VIEWS:
        raise ApiError(400, f"unknown view {form['view']!r} (one of {', '.join(VIEWS)})")
    offset = _offset(form["offset"])
    expression = parse_tag_expression(form["tags"])
    plain_args = MultiDict(
        [(key, value) for key, value in args.items(multi=True) if key not in ("tags", "sort", "offset", "view")]
    )
    plain_args.setdefault("lookback", DEFAULT_LOOKBACK)
    plain_args.setdefault("limit", form["limit"])
    request_ = parse_search(plain_args, time.time_ns(), limits)
    size = request_.query.limit
    upper_bound = False
    if request_.trace_ids:
        traces = [trace for trace in map(reader.get_trace, request_.trace_ids) if trace is not None]
        matched = [summarize(trace) for trace in traces if trace.spans]
        total, results = len(matched), matched[offset : offset + size]
    else:
        query = dataclasses.replace(request_.query, tags={**request_.query.tags, **expression.plain})
        order = SORTS[form["sort"]][1]
        if expression.terms:
            total, matched, upper_bound = _post_filtered(reader, query, order, expression, limits.max_search_limit)
            results = matched[offset : offset + size]
        else:
            total, page = reader.search_summaries(query, order, offset, size)
            results = [summarize(trace) for trace in _whole(reader, [s.trace_id for s in page])]
    return {
        "results": results,
        "total": total,
        "offset": offset,
        "upper_bound": upper_bound,
        "scan_limit": limits.max_search_limit,
        "previous_offset": max(offset - size, 0) if offset else None,
        "next_offset": offset + size if offset + len(results) < total else None,
        "plot": plot(results),
    }


def _post_filtered(
    reader: SpanReader, query: TraceQuery, order: str, expression: TagExpression, scan_limit: int
) -> tuple[int, list[TraceSummary], bool]:
    """(total, every tested match in order, whether the total is only an upper bound)."""
    total, candidates = reader.search_summaries(query, order, 0, scan_limit)
    traces = _whole(reader, [candidate.trace_id for candidate in candidates])
    matched = [summarize(trace) for trace in traces if expression.matches(trace)]
    untested = total - len(candidates)
    return len(matched) + untested, matched, untested > 0


def _whole(reader: SpanReader, trace_ids: list[bytes]) -> list[Trace]:
    """The traces behind a page, in its order (one that expired meanwhile is left out)."""
    return [trace for trace in map(reader.get_trace, trace_ids) if trace is not None and trace.spans]


def _offset(text: str) -> int:
    if not text.isdigit():
        raise ApiError(400, f"invalid parameter: offset must be a non-negative integer, got {text!r}")
    return int(text)
