"""``/trace/{id}`` (one trace) and ``/trace/{a}...{b}`` (two compared), Jaeger UI's URLs.

``?view=`` opens one of the trace's views (timeline, flame, statistics, table,
graph, events) and ``?service=`` (repeatable) filters the spans shown, so a
link opens the same picture; the views themselves are drawn in the browser.

The trace page embeds the trace in the API's JSON shape, plus its critical
path, inside a ``<script type="application/json">`` (``html_safe_json``
escapes ``<``, ``>`` and ``&``); the page's scripts draw from it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from markupsafe import Markup

from backend.analysis.critical_path import critical_path, parent_id
from backend.query.json_text import html_safe_json
from backend.query.params import trace_id_from_text
from backend.query.translate import trace_to_jaeger
from backend.query.ui.compare import compare_traces
from backend.query.ui.summary import summarize
from backend.storage.api import SpanReader, StorageError, Trace

# The trace page's views (``?view=``), as tracepage.js names them.
VIEWS = ("timeline", "flame", "statistics", "table", "graph", "events")


class PageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def register(ui: Blueprint, reader: SpanReader) -> None:
    @ui.errorhandler(PageError)
    def page_error(error: PageError) -> tuple[str, int]:
        return render_template("error.html", message=error.message), error.status

    @ui.errorhandler(StorageError)
    def storage_error(error: StorageError) -> tuple[str, int]:
        return render_template("error.html", message=f"storage error: {error}"), 503

    @ui.get("/trace/<ids>")
    def trace(ids: str) -> str:
        if "..." in ids:
            first, _, second = ids.partition("...")
            return _compare(reader, first, second)
        view = request.args.get("view", "timeline")
        if view not in VIEWS:
            raise PageError(400, f"unknown view {view!r} (one of {', '.join(VIEWS)})")
        stored = _load(reader, ids)
        data = trace_to_jaeger(stored)
        summary = summarize(stored)
        return render_template(
            "trace.html",
            summary=summary,
            download_url=url_for("jaeger_api.get_trace", trace_id=summary.trace_id),
            depth=_depth(data["spans"]),
            # Serialised here, not with Jinja's ``tojson`` (which sorts keys): a 10,000-span trace is 10 MB.
            data_json=Markup(html_safe_json(data)),
            critical_json=Markup(html_safe_json(critical_path(data["spans"]).as_json())),
        )


def _load(reader: SpanReader, text: str) -> Trace:
    try:
        trace_id = trace_id_from_text(text)
    except ValueError as exc:
        raise PageError(400, str(exc)) from None
    stored = reader.get_trace(trace_id)
    if stored is None or not stored.spans:
        raise PageError(404, f"trace {text} not found")
    return stored


def _compare(reader: SpanReader, first: str, second: str) -> str:
    traces = [_load(reader, first), _load(reader, second)]
    data = [trace_to_jaeger(trace) for trace in traces]
    rows = compare_traces(*data)
    longest = max((max(row.duration_us) for row in rows), default=1) or 1
    return render_template(
        "compare.html", summaries=[summarize(trace) for trace in traces], rows=rows, longest_us=longest
    )


def _depth(spans: list[dict[str, Any]]) -> int:
    """The deepest nesting of parent/child spans (1 for a lone span)."""
    parents = {span["spanID"]: parent_id(span) for span in spans}
    depths: dict[str, int] = {}
    for span_id in parents:
        chain = []
        current: str | None = span_id
        while current is not None and current in parents and current not in depths and current not in chain:
            chain.append(current)
            current = parents[current]
        base = depths.get(current, 0) if current is not None else 0
        for item in reversed(chain):
            base += 1
            depths[item] = base
    return max(depths.values(), default=0)
