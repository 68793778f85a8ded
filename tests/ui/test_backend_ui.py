"""The UI as people reach it: the real ``hotrod backend`` process, spans sent over OTLP/HTTP, pages on its port."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.backend.clients import post_otlp, span_count
from tests.backend.conftest import Launcher
from tests.builders import export_request
from tests.support import wait_for
from tests.ui.traces import dispatch


@pytest.fixture
def backend(tmp_path):
    launcher = Launcher(tmp_path)
    yield launcher()
    launcher.close()


def test_hotrod_links_land_on_the_trace_sent_over_otlp(backend, page):
    specs = dispatch("session-7-1")
    trace_id = specs[0].trace_id.hex()
    response = post_otlp(backend.url("otlp-http", "/v1/traces"), export_request(specs).SerializeToString())
    assert response.status_code == 200
    wait_for(lambda: span_count(backend.url("query"), trace_id) == len(specs), timeout=10, what="trace stored")

    tags = quote(json.dumps({"request": "session-7-1"}))
    page.goto(backend.url("query", f"/search?service=frontend&limit=20&lookback=1h&tags={tags}"))
    page.click(".trace-title")
    page.wait_for_selector("#waterfall .row")

    assert page.url == backend.url("query", f"/trace/{trace_id}")
    assert page.locator("#waterfall .row").count() == len(specs)
    page.goto(backend.url("query", "/"))
    assert page.url.endswith("/search")
