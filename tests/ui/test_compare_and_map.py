"""The compare page and the service map in Chromium, on traces the test sends."""

from __future__ import annotations

from tests.builders import SpanSpec
from tests.ui.traces import SCRIPT_NAME, dispatch


def compare_rows(page) -> list[list[str]]:
    return page.eval_on_selector_all(
        "#compare-table tbody tr",
        "rows => rows.map(r => Array.from(r.cells).slice(0, 5).map(c => c.textContent.trim()))",
    )


def test_compare_shows_both_traces_side_by_side_with_the_slow_call_marked(site, page):
    slow, fast = dispatch("slow", sql_ms=900, drivers=4), dispatch("fast", sql_ms=100, drivers=2)
    site.store(*slow, *fast)

    page.goto(site.url(f"/trace/{slow[0].trace_id.hex()}...{fast[0].trace_id.hex()}"))

    heads = page.text_content("#compare-heads")
    assert slow[0].trace_id.hex()[:7] in heads and fast[0].trace_id.hex()[:7] in heads
    durations = page.eval_on_selector_all("#compare-heads .total-duration", "cells => cells.map(c => c.textContent)")
    assert durations == ["1.15s", "250ms"]
    rows = compare_rows(page)
    assert rows[0] == ["frontend: HTTP GET /dispatch", "1", "1.15s", "1", "250ms"]
    assert ["mysql: SQL SELECT", "1", "900ms", "1", "100ms"] in rows
    assert ["route: HTTP GET /route", "4", "192ms", "2", "96ms"] in rows
    sql_row = page.locator("#compare-table tbody tr", has_text="SQL SELECT")
    assert sql_row.get_attribute("class") == "row-faster"


def test_compare_marks_calls_present_in_only_one_trace(site, page):
    a = SpanSpec("frontend", "root")
    b = SpanSpec("frontend", "root")
    site.store(a, a.child("redis", "GET"), b, b.child("driver", SCRIPT_NAME))

    page.goto(site.url(f"/trace/{a.trace_id.hex()}...{b.trace_id.hex()}"))

    assert page.locator("tr.row-removed").text_content().strip().startswith("redis: GET")
    assert page.locator("tr.row-added .op").text_content() == SCRIPT_NAME


def test_compare_with_an_unknown_trace_says_which_is_missing(site, page):
    a = SpanSpec("frontend", "root")
    site.store(a)

    response = page.goto(site.url(f"/trace/{a.trace_id.hex()}...{'f' * 32}"))

    assert response.status == 404
    assert "f" * 32 in page.text_content("#page-error")


def test_the_service_map_shows_each_call_edge_with_its_count(site, page):
    site.store(*dispatch("r-1", drivers=3), *dispatch("r-2", drivers=2))

    page.goto(site.url("/dependencies"))

    edges = page.eval_on_selector_all(
        "#service-map g.edge",
        "gs => gs.map(g => [g.dataset.parent, g.dataset.child, g.querySelector('text').textContent])",
    )
    assert sorted(edges) == [
        ["customer", "mysql", "2"],
        ["frontend", "customer", "2"],
        ["frontend", "driver", "2"],
        ["frontend", "route", "5"],
    ]
    nodes = page.eval_on_selector_all("#service-map g.node", "gs => gs.map(g => g.dataset.service)")
    assert sorted(nodes) == ["customer", "driver", "frontend", "mysql", "route"]
    frontend_x = page.locator('g.node[data-service="frontend"] rect').get_attribute("x")
    mysql_x = page.locator('g.node[data-service="mysql"] rect').get_attribute("x")
    assert int(frontend_x) < int(mysql_x)


def test_a_service_on_the_map_links_to_its_traces(site, page):
    site.store(*dispatch("r-1"))
    page.goto(site.url("/dependencies"))

    page.locator('g.node[data-service="mysql"]').click()

    page.wait_for_selector("#trace-list")
    assert "service=mysql" in page.url


def test_the_service_map_says_when_there_are_no_calls(site, page):
    site.store(SpanSpec("frontend", "alone"))

    page.goto(site.url("/dependencies"))

    assert page.locator("#map-empty").is_visible()


def test_a_bad_lookback_is_refused_with_400(site, page):
    response = page.goto(site.url("/dependencies?lookback=-5"))

    assert response.status == 400
    assert "lookback" in page.text_content("#map-error")
