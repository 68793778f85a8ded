"""A real Jaeger UI build served by our query port, driven in Chromium: search, trace page, Monitor.

Runs only when ``JAEGER_UI_BUILD`` names a build folder (the one holding
index.html and static/; how to make one: docs/jaeger-ui.md).  Every /api
call the UI makes must succeed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from backend.service import BackendService
from tests.builders import SpanSpec
from tests.spm.conftest import Backend, build_config

BUILD = os.environ.get("JAEGER_UI_BUILD", "")
# the versions README.md's compatibility table names; a build of another version fails here until it is added
TESTED_VERSIONS = ("2.18.0", "2.19.0")
pytestmark = pytest.mark.skipif(not BUILD, reason="JAEGER_UI_BUILD names no Jaeger UI build (see docs/jaeger-ui.md)")
UI_TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    """The built-in config (span metrics on) on memory storage, serving the build, with a few dispatches in it."""
    assert (Path(BUILD) / "index.html").is_file(), f"JAEGER_UI_BUILD={BUILD} holds no index.html"
    service = BackendService(build_config("memory", None, {"extensions.jaeger_query.ui.assets_path": BUILD}))
    service.start()
    started = Backend(service)
    now = time.time_ns()
    for i in range(3):
        root = SpanSpec(
            "frontend", "HTTP GET /dispatch", start_ns=now - (i + 1) * 2_000_000_000, duration_ns=80_000_000
        )
        find = root.child("driver", "FindNearest", duration_ns=30_000_000)  # server spans: the Monitor's default kind
        started.send([root, find, find.child("redis", "GetDriver", kind=Span.SPAN_KIND_CLIENT)])
    for name in ("frontend", "driver"):
        started.calls_counted(name, 3)
    yield started
    service.shutdown()


@pytest.fixture
def ui_page(page, backend: Backend) -> Iterator:
    """The page, failing the test on any /api answer that is not a success."""
    failed: list[str] = []
    page.on(
        "response", lambda r: failed.append(f"{r.status} {r.url}") if "/api/" in r.url and r.status >= 400 else None
    )
    page.set_default_timeout(UI_TIMEOUT_MS)
    yield page
    assert not failed, failed


def test_the_build_is_a_version_the_readme_names():
    package = Path(BUILD).resolve().parent / "package.json"  # packages/jaeger-ui/package.json beside build/
    if not package.is_file():
        pytest.skip(f"{package} not found: cannot tell the build's version")

    assert json.loads(package.read_text())["version"] in TESTED_VERSIONS


def test_search_lists_the_traces_and_a_trace_page_renders(ui_page, backend: Backend):
    ui_page.goto(backend.url("jaeger_query", "/search?service=frontend&lookback=1h&limit=20"))

    results = ui_page.locator('a[href*="/trace/"]').filter(has_text="HTTP GET /dispatch")
    results.first.wait_for()
    assert results.count() >= 3

    results.first.click()
    ui_page.get_by_text("FindNearest").first.wait_for()
    ui_page.get_by_text("GetDriver").first.wait_for()


def test_the_monitor_tab_shows_charts(ui_page, backend: Backend):
    ui_page.goto(backend.url("jaeger_query", "/monitor"))  # opens on the first service: driver

    ui_page.get_by_text("Request rate (req/s)").wait_for()
    ui_page.locator(".recharts-area").first.wait_for(state="attached")  # a plotted series, not just axes
    assert ui_page.locator(".recharts-surface").count() >= 3
    ui_page.get_by_text("Operations metrics under").wait_for()
    assert ui_page.get_by_text("No Data", exact=True).count() == 0
