"""The bundled trace UI on the query port: search, trace views, compare, service map, monitor, upload.

Pages are rendered on the server (Jinja2 autoescaping) from the same storage
reader the API uses; the trace page embeds its trace as JSON and small plain
scripts draw every view of it (timeline, flame graph, statistics, spans table,
graph, events), inserting span data only as text.  The upload page hands an
opened file to the same scripts.
"""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from werkzeug.wrappers import Response

from backend.query.params import QueryLimits
from backend.query.ui import (
    deep_dependencies_view,
    map_view,
    monitor_view,
    quality_view,
    search_view,
    trace_view,
    upload_view,
)
from backend.query.ui.formatting import FILTERS
from backend.storage.api import DependencyReader, SpanReader


def blueprint(reader: SpanReader, dependencies: DependencyReader, limits: QueryLimits) -> Blueprint:
    ui = Blueprint("ui", __name__, template_folder="templates", static_folder="static", static_url_path="/static")
    for name, function in FILTERS.items():
        ui.add_app_template_filter(function, name)

    @ui.get("/")
    def home() -> Response:
        return redirect(url_for("ui.search"))

    search_view.register(ui, reader, limits)
    trace_view.register(ui, reader)
    map_view.register(ui, dependencies, limits)
    monitor_view.register(ui, reader)
    deep_dependencies_view.register(ui, reader, limits)
    quality_view.register(ui, reader, limits)
    upload_view.register(ui, limits)
    return ui
