"""``/search?view=table`` in Chromium: one row per trace, column heads that sort every match, not just the page."""

from __future__ import annotations

import time

import requests

from tests.builders import SpanSpec
from tests.ui.traces import MS, dispatch


def texts(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "nodes => nodes.map(n => n.textContent)")


def many_traces(site, count: int) -> list[SpanSpec]:
    """``count`` one-span traces of service ``svc``; the i-th lasts i+1 ms and started i seconds after the first."""
    start = time.time_ns() - 600_000 * MS
    roots = [
        SpanSpec("svc", f"op {i}", start_ns=start + i * 1_000 * MS, duration_ns=(i + 1) * MS) for i in range(count)
    ]
    site.store(*roots)
    return roots


def test_each_trace_is_a_row_with_its_root_timing_spans_errors_and_services(site, page):
    specs = dispatch("r-1", drivers=2)
    specs[3].status_code = 2
    site.store(*specs)

    page.goto(site.url("/search?service=frontend&view=table"))

    row = page.locator(f'#result-table tr[data-trace-id="{specs[0].trace_id.hex()}"]')
    assert row.locator(".svc").text_content() == "frontend"
    assert row.locator(".op").text_content() == "HTTP GET /dispatch"
    assert row.locator(".duration").text_content() == "450ms"
    assert row.locator(".count").text_content() == "6"
    assert row.locator(".errors").text_content() == "1"
    assert texts(page, "#result-table .service-chip") == [
        "customer (1)",
        "driver (1)",
        "frontend (1)",
        "mysql (1)",
        "route (2)",
    ]


def test_a_column_head_sorts_the_whole_match_set_and_a_second_click_reverses_it(site, page):
    many_traces(site, 25)
    page.goto(site.url("/search?service=svc&view=table&limit=10"))
    assert texts(page, "#result-table .op")[0] == "op 24"  # newest first

    page.locator("#sort-duration").click()
    assert texts(page, "#result-table .duration")[:2] == ["25ms", "24ms"]
    assert "sort=slowest" in page.url and "view=table" in page.url
    page.locator("#sort-duration").click()
    assert texts(page, "#result-table .duration")[:2] == ["1ms", "2ms"]
    page.locator("#sort-start").click()
    page.locator("#sort-start").click()
    assert texts(page, "#result-table .op")[0] == "op 0"


def test_the_next_page_keeps_the_table_and_its_order(site, page):
    many_traces(site, 25)
    page.goto(site.url("/search?service=svc&view=table&limit=10&sort=fastest"))

    page.locator("#next-page").click()

    assert texts(page, "#result-table .duration") == [f"{ms}ms" for ms in range(11, 21)]


def test_list_and_table_switch_keeping_the_search(site, page):
    many_traces(site, 3)
    page.goto(site.url("/search?service=svc&sort=slowest"))
    assert page.locator("#trace-list li.trace-item").count() == 3

    page.locator("#view-table").click()
    assert texts(page, "#result-table .duration") == ["3ms", "2ms", "1ms"]
    page.locator("#find").click()
    assert page.locator("#result-table").count() == 1
    page.locator("#view-list").click()
    assert page.locator("#trace-list li.trace-item").count() == 3


def test_two_ticked_rows_open_the_comparison(site, page):
    roots = many_traces(site, 2)
    page.goto(site.url("/search?service=svc&view=table"))

    page.locator("#result-table .pick").nth(0).check()
    page.locator("#result-table .pick").nth(1).check()
    page.locator("#compare").click()

    assert page.url.endswith(f"/trace/{roots[1].trace_id.hex()}...{roots[0].trace_id.hex()}")


def test_an_unknown_results_view_is_a_400(site):
    response = requests.get(site.url("/search?service=svc&view=grid"), timeout=5)

    assert response.status_code == 400
    assert "unknown view &#39;grid&#39; (one of list, table)" in response.text


def test_the_errors_and_root_heads_sort_the_whole_match_set(site, page):
    start = time.time_ns() - 600_000 * MS
    roots = [SpanSpec(service, f"op {i}", start_ns=start + i * MS) for i, service in enumerate(["b", "a", "c"] * 5)]
    children = [
        root.child("svc", "call", status_code=2 if n < i % 4 else 0) for i, root in enumerate(roots) for n in range(3)
    ]
    site.store(*roots, *children)
    page.goto(site.url("/search?service=svc&view=table&limit=4"))

    page.locator("#sort-errors").click()
    assert "sort=most-errors" in page.url
    # errors are i % 4 (three is the most), newest first among equals: i = 11, 7, 3, then the newest with two
    assert texts(page, "#result-table .op") == ["op 11", "op 7", "op 3", "op 14"]
    assert texts(page, "#result-table td.errors") == ["3", "3", "3", "2"]
    page.locator("#sort-root").click()
    assert "sort=root" in page.url
    assert texts(page, "#result-table .svc") == ["a", "a", "a", "a"]  # service, then operation, as text
    assert texts(page, "#result-table .op") == ["op 1", "op 10", "op 13", "op 4"]
    page.locator("#next-page").click()
    assert texts(page, "#result-table .svc") == ["a", "b", "b", "b"]
    assert texts(page, "#result-table .op") == ["op 7", "op 0", "op 12", "op 3"]
