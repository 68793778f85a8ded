"""The Monitor page in headless Chromium: charts and an operations table from the metrics API, all escaped."""

from __future__ import annotations

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from tests.builders import SpanSpec
from tests.spm.conftest import Backend, unique

MS = 1_000_000


@pytest.fixture(scope="module")
def monitored(shared_backend: Backend) -> str:
    service = unique("shop")
    shared_backend.send(
        [SpanSpec(service, "GET /checkout", duration_ns=900 * MS) for _ in range(6)]
        + [SpanSpec(service, "GET /checkout", duration_ns=900 * MS, status_code=Status.STATUS_CODE_ERROR)] * 2
        + [SpanSpec(service, "GET /health", duration_ns=1 * MS) for _ in range(20)]
    )
    shared_backend.calls_counted(service, 28)
    return service


def open_monitor(tab, backend: Backend, service: str) -> None:
    tab.goto(backend.url("jaeger_query", "/monitor?") + f"service={service}&lookback=15m")
    tab.wait_for_selector("body[data-monitor-ready=true]", timeout=10_000)


def test_nav_links_to_the_monitor_page(page, shared_backend: Backend, monitored: str) -> None:
    page.goto(shared_backend.url("jaeger_query", "/search"))
    page.click("nav >> text=Monitor")
    page.wait_for_selector("#monitor-form")
    assert "/monitor" in page.url


def test_charts_draw_a_line_for_each_quantile_and_rate(page, shared_backend: Backend, monitored: str) -> None:
    open_monitor(page, shared_backend, monitored)
    labels = page.eval_on_selector_all("#chart-latency polyline", "lines => lines.map(l => l.dataset.label)")
    assert labels == ["p50", "p95", "p99"]
    assert page.locator("#chart-errors polyline").count() == 1
    assert page.locator("#chart-rate polyline").count() == 1
    assert page.text_content("#monitor-service") == monitored


def test_operations_rank_by_impact_and_sort_by_any_column(page, shared_backend: Backend, monitored: str) -> None:
    open_monitor(page, shared_backend, monitored)
    names = page.eval_on_selector_all("#operations tbody tr", "rows => rows.map(r => r.dataset.operation)")
    assert names == ["GET /checkout", "GET /health"]  # fewer calls but far slower: more impact
    checkout = page.locator("#operations tbody tr").first
    assert checkout.locator("td").nth(3).text_content() == "25.0 %"
    page.click("#operations th[data-sort=rate]")
    names = page.eval_on_selector_all("#operations tbody tr", "rows => rows.map(r => r.dataset.operation)")
    assert names == ["GET /health", "GET /checkout"]


def test_an_operation_opens_a_search_for_its_slowest_and_failing_traces(
    page, shared_backend: Backend, monitored: str
) -> None:
    open_monitor(page, shared_backend, monitored)
    row = page.locator("#operations tbody tr[data-operation='GET /checkout']")
    row.locator("text=failing").click()
    page.wait_for_selector("#search-form")
    assert "tags=error" in page.url and "operation=GET+%2Fcheckout" in page.url
    page.go_back()
    page.wait_for_selector("body[data-monitor-ready=true]")
    page.locator("#operations tbody tr[data-operation='GET /checkout'] >> text=slowest").click()
    page.wait_for_selector("#search-form")
    assert "sort=slowest" in page.url


def test_a_script_service_name_is_shown_as_text(page, shared_backend: Backend) -> None:
    hostile = "<script>alert(1)</script>"
    shared_backend.send([SpanSpec(hostile, "<img src=x onerror=alert(2)>") for _ in range(3)])
    shared_backend.calls_counted(hostile, 3)
    shared_backend.service_stored(hostile)
    page.goto(shared_backend.url("jaeger_query", "/monitor?") + "service=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    page.wait_for_selector("body[data-monitor-ready=true]", timeout=10_000)
    assert page.text_content("#monitor-service") == hostile
    assert page.locator("#operations td.op-name").first.text_content() == "<img src=x onerror=alert(2)>"
    assert page.locator("main img").count() == 0  # the page fixture fails the test on any alert dialog
