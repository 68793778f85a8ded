"""The search page in Chromium: the form, shareable URLs, HotROD's links, results list and plot."""

from __future__ import annotations

import json
from urllib.parse import quote

from tests.ui.traces import dispatch, hostile


def result_ids(page) -> list[str]:
    return page.eval_on_selector_all("#trace-list .trace-item", "items => items.map(i => i.dataset.traceId)")


def test_search_by_service_finds_the_sent_traces_with_their_summary(site, page):
    first, second = dispatch("r-1"), dispatch("r-2", drivers=1)
    site.store(*first, *second)

    page.goto(site.url("/search?service=frontend&lookback=1h"))

    assert sorted(result_ids(page)) == sorted([first[0].trace_id.hex(), second[0].trace_id.hex()])
    item = page.locator(f'.trace-item[data-trace-id="{first[0].trace_id.hex()}"]')
    assert "frontend: HTTP GET /dispatch" in item.locator(".trace-title").text_content()
    assert item.locator(".count").text_content() == "7 spans"
    assert "route (3)" in item.locator(".meta").text_content()
    assert item.locator(".duration").text_content() == "500ms"
    assert page.locator("#scatter circle.dot").count() == 2
    assert page.text_content("#result-count") == "2 traces"


def test_the_form_fills_operations_for_the_service_and_puts_the_query_in_the_url(site, page):
    site.store(*dispatch("r-1"))
    page.goto(site.url("/search"))

    page.select_option("#service", "mysql")
    page.wait_for_function("document.querySelectorAll('#operation option').length == 2")
    page.select_option("#operation", "SQL SELECT")
    page.fill("#tags", "sql.query")
    page.click("#find")
    page.wait_for_selector("#trace-list")

    assert "service=mysql" in page.url and "operation=SQL+SELECT" in page.url and "tags=sql.query" in page.url
    assert len(result_ids(page)) == 1


def test_the_hotrod_find_trace_link_lands_on_the_matching_request(site, page):
    wanted, other = dispatch("session-1-2"), dispatch("session-1-3")
    site.store(*wanted, *other)
    tags = quote(json.dumps({"request": "session-1-2"}))

    page.goto(site.url(f"/search?service=frontend&limit=20&lookback=1h&tags={tags}"))

    assert result_ids(page) == [wanted[0].trace_id.hex()]


def test_a_result_opens_its_trace(site, page):
    specs = dispatch("r-1")
    site.store(*specs)
    page.goto(site.url("/search?service=frontend"))

    page.click(".trace-title")

    page.wait_for_selector("#waterfall .row")
    assert page.url.endswith(f"/trace/{specs[0].trace_id.hex()}")


def test_span_names_in_results_are_text(site, page):
    site.store(*hostile())

    page.goto(site.url("/search?service=customer"))

    assert "frontend: HTTP GET /evil" in page.locator(".trace-title").text_content()
    page.goto(site.url("/search?service=customer&operation=" + quote("<script>alert(1)</script>")))
    assert page.locator("#operation option:checked").text_content() == "<script>alert(1)</script>"
    assert len(result_ids(page)) == 1


def test_a_bad_parameter_is_shown_on_the_page_with_status_400(site, page):
    site.store(*dispatch("r-1"))

    response = page.goto(site.url("/search?service=frontend&minDuration=fast"))

    assert response.status == 400
    assert "minDuration" in page.text_content("#search-error")


def test_ticking_two_results_opens_the_comparison(site, page):
    slow, fast = dispatch("slow", sql_ms=900), dispatch("fast", sql_ms=100)
    site.store(*slow, *fast)
    page.goto(site.url("/search?service=frontend&sort=slowest"))

    assert page.is_disabled("#compare")
    page.locator(".pick").nth(0).check()
    page.locator(".pick").nth(1).check()
    page.click("#compare")

    page.wait_for_selector("#compare-table")
    assert page.url.endswith(f"/trace/{slow[0].trace_id.hex()}...{fast[0].trace_id.hex()}")
