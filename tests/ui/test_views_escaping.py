"""Hostile service, operation and attribute names in every view added for issue 18: shown as text, never markup.

A script that ran would fail the test through the ``page`` fixture (page errors and dialogs are
failures); the checks below also prove the names are on the page, literally, and that no element
they spell exists.
"""

from __future__ import annotations

import json

import pytest
import requests

from tests.ui.traces import QUOTED_NAME, SCRIPT_NAME, hostile_names

INJECTED = 'main b, main i, main img, main script:not([type="application/json"]), main svg svg'


def texts(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "nodes => nodes.map(n => n.textContent)")


def open_trace(site, page, query: str):
    specs = hostile_names()
    site.store(*specs)
    page.goto(site.url(f"/trace/{specs[0].trace_id.hex()}{query}"))
    return specs


def test_statistics(site, page):
    open_trace(site, page, "?view=statistics")

    assert sorted(texts(page, "#stats-table .group-name")) == sorted([QUOTED_NAME, SCRIPT_NAME])
    page.select_option("#stats-group", "operation")
    assert sorted(texts(page, "#stats-table .row-name")) == sorted([QUOTED_NAME, SCRIPT_NAME])
    assert page.locator(INJECTED).count() == 0


def test_spans_table_with_a_hostile_attribute_column(site, page):
    specs = open_trace(site, page, "?view=table&attr=<b>key</b>")

    child = page.locator(f'.trow[data-span-id="{specs[1].span_id.hex()}"]')
    assert child.locator(".service").text_content() == SCRIPT_NAME
    assert child.locator(".operation").text_content() == QUOTED_NAME
    assert child.locator(".attr").text_content() == "<i>value</i>"
    assert page.locator('.span-table-head [data-sort="attr"]').text_content() == "<b>key</b>"
    page.fill("#span-filter", "\"quoted\" & 'single'")
    assert texts(page, ".trow .operation") == [QUOTED_NAME]
    assert page.locator(INJECTED).count() == 0


def test_graph(site, page):
    open_trace(site, page, "?view=graph")

    assert sorted(texts(page, "#trace-graph .node-service")) == sorted([QUOTED_NAME, SCRIPT_NAME])
    assert page.locator(f"#trace-graph g.graph-node[data-service='{SCRIPT_NAME}']").count() == 1
    assert page.locator(INJECTED).count() == 0


def test_service_filter(site, page):
    specs = open_trace(site, page, "")

    page.locator("#service-filter summary").click()
    assert sorted(texts(page, "#service-filter .filter-item")) == sorted([QUOTED_NAME, SCRIPT_NAME])
    page.locator("#service-filter input").nth(1).check()
    assert page.text_content("#service-filter .filter-label") in (QUOTED_NAME, SCRIPT_NAME)
    assert page.locator("#waterfall .row.folded").count() == 1
    page.goto(page.url)  # the filter from the URL, hostile name and all
    assert page.locator("#waterfall .row.folded").count() == 1
    assert (
        page.locator(f'#waterfall .row[data-span-id="{specs[0].span_id.hex()}"]').count()
        + page.locator(f'#waterfall .row[data-span-id="{specs[1].span_id.hex()}"]').count()
        == 1
    )
    assert page.locator(INJECTED).count() == 0


def test_search_table(site, page):
    specs = hostile_names()
    site.store(*specs)

    page.goto(site.url("/search?" + requests.compat.urlencode({"service": QUOTED_NAME, "view": "table"})))

    assert page.locator("#result-table .svc").text_content() == QUOTED_NAME
    assert page.locator("#result-table .op").text_content() == SCRIPT_NAME
    assert sorted(texts(page, "#result-table .service-chip")) == sorted([f"{QUOTED_NAME} (1)", f"{SCRIPT_NAME} (1)"])
    assert page.locator(INJECTED).count() == 0


def test_upload(site, page, tmp_path):
    specs = hostile_names()
    site.store(*specs)
    trace = requests.get(site.url(f"/api/traces/{specs[0].trace_id.hex()}"), timeout=5).json()
    file = tmp_path / "hostile.json"
    file.write_text(json.dumps(trace))
    page.goto(site.url("/upload?view=table&attr=q\"'"))

    page.set_input_files("#upload-file", str(file))

    assert page.locator("#root-service").text_content() == QUOTED_NAME
    assert page.locator("#root-operation").text_content() == SCRIPT_NAME
    assert (
        page.locator(f'.trow[data-span-id="{specs[1].span_id.hex()}"] .attr').text_content() == "\"quoted\" & 'single'"
    )
    page.locator('.view-tab[data-view="statistics"]').click()
    page.locator('.view-tab[data-view="graph"]').click()
    assert page.locator("#trace-graph g.graph-node").count() == 2
    assert page.locator(INJECTED).count() == 0


def test_an_upload_error_naming_hostile_text_is_shown_as_text(site, page, tmp_path):
    file = tmp_path / "<img src=x onerror=alert(1)>.json"
    file.write_text("<script>alert(2)</script>")
    page.goto(site.url("/upload"))

    page.set_input_files("#upload-file", str(file))
    page.locator("#upload-error").wait_for()

    assert (
        page.locator("#upload-error")
        .text_content()
        .startswith("<img src=x onerror=alert(1)>.json: the file is not JSON")
    )
    assert page.locator(INJECTED).count() == 0


@pytest.mark.parametrize(
    ("view", "content"),
    [
        ("flame", "#flame g.flame-box title"),
        ("statistics", "#stats-table .group-name"),
        ("table", ".trow .service"),
        ("graph", "#trace-graph .node-service"),
        ("events", "#events .hint"),
    ],
)
def test_each_view_filtered_to_a_hostile_service_from_the_url(site, page, view, content):
    open_trace(site, page, "?" + requests.compat.urlencode({"view": view, "service": SCRIPT_NAME}))

    assert page.text_content("#service-filter .filter-label") == SCRIPT_NAME
    if view == "events":  # neither span has events: the view says so for the filtered services
        assert texts(page, content) == ["No span of the services the filter shows in this trace has events."]
    elif view == "flame":
        assert texts(page, content) == [f"{SCRIPT_NAME}: {QUOTED_NAME} (10ms)"]
    else:
        assert texts(page, content) == [SCRIPT_NAME]
    assert page.locator(INJECTED).count() == 0
