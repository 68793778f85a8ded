"""The routes of a Jaeger UI build: files under ``/static/`` from the build, and the derived ``index.html``
for every other path outside ``/api`` (the single-page app routes itself), as Jaeger's query server does.
"""

from __future__ import annotations

from flask import Blueprint, Response, send_from_directory
from werkzeug.exceptions import NotFound

from backend.query.jaeger_ui import JaegerUi


def blueprint(jaeger_ui: JaegerUi) -> Blueprint:
    ui = Blueprint("jaeger_ui", __name__)
    static = jaeger_ui.assets / "static"

    @ui.get("/static/<path:name>")
    def static_file(name: str) -> Response:
        return send_from_directory(static, name, max_age=3600)

    @ui.get("/", defaults={"path": ""})
    @ui.get("/<path:path>")
    def index(path: str) -> Response:
        if path == "api" or path.startswith("api/"):
            raise NotFound()  # the app answers it in the API's JSON shape
        response = Response(jaeger_ui.index_html, mimetype="text/html")
        response.headers["Cache-Control"] = "no-cache"
        return response

    return ui
