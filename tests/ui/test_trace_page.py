"""The trace page in Chromium: header, waterfall with every span, details, views, escaping, big traces."""

from __future__ import annotations

import time

import requests

from tests.builders import SpanSpec
from tests.ui.traces import MS, SCRIPT_NAME, dispatch, hostile


def open_trace(site, page, specs) -> None:
    site.store(*specs)
    page.goto(site.url(f"/trace/{specs[0].trace_id.hex()}"))
    page.wait_for_selector("#waterfall .row")


def row(page, spec: SpanSpec):
    return page.locator(f'#waterfall .row[data-span-id="{spec.span_id.hex()}"]')


def test_the_header_sums_up_the_trace(site, page):
    specs = dispatch("r-1", drivers=2)
    open_trace(site, page, specs)

    assert page.text_content("#span-count") == str(len(specs))
    assert page.text_content("#service-count") == "5"
    assert page.text_content("#trace-depth") == "3"
    assert page.text_content("#trace-duration") == "450ms"
    assert page.text_content("#trace-id") == specs[0].trace_id.hex()


def test_the_waterfall_shows_every_span_indented_under_its_parent(site, page):
    specs = dispatch("r-1")
    open_trace(site, page, specs)

    shown = page.eval_on_selector_all("#waterfall .row", "rows => rows.map(r => r.dataset.spanId)")
    assert sorted(shown) == sorted(spec.span_id.hex() for spec in specs)
    sql_indent = row(page, specs[2]).locator(".label").evaluate("e => parseInt(e.style.paddingLeft)")
    root_indent = row(page, specs[0]).locator(".label").evaluate("e => parseInt(e.style.paddingLeft)")
    assert sql_indent > root_indent


def test_collapsing_a_span_hides_its_subtree_and_expanding_brings_it_back(site, page):
    specs = dispatch("r-1")
    root, customer, sql = specs[:3]
    open_trace(site, page, specs)

    row(page, customer).locator(".toggle").click()
    assert row(page, sql).count() == 0
    assert row(page, root).count() == 1
    row(page, customer).locator(".toggle").click()
    assert row(page, sql).count() == 1


def open_sql_span_linking_the_root(site, page) -> tuple[SpanSpec, SpanSpec]:
    """The dispatch trace with its SQL span linked to the root, that span's details open; (root, sql)."""
    specs = dispatch("r-1")
    root, sql = specs[0], specs[2]
    sql.links.append((root.trace_id, root.span_id))
    open_trace(site, page, specs)
    row(page, sql).click()
    return root, sql


def test_clicking_a_span_shows_attributes_resource_events_and_links(site, page):
    root, sql = open_sql_span_linking_the_root(site, page)
    details = page.locator("#span-details")
    details.wait_for()
    assert details.locator(".svc").first.text_content() == "mysql"
    assert "SELECT * FROM customer WHERE customer_id=123" in details.locator("table.attributes").text_content()
    assert "span.kind" in details.locator("table.attributes").text_content()
    assert "service.name" in details.locator("table.resource").text_content()
    assert "acquired lock" in details.locator(".events").text_content()
    assert root.span_id.hex() in details.locator(".links").text_content()
    assert sql.span_id.hex() in details.locator("dl.ids").text_content()
    assert page.url.endswith("#" + sql.span_id.hex())


def test_a_link_to_another_span_of_the_trace_selects_it(site, page):
    root, _ = open_sql_span_linking_the_root(site, page)
    page.locator("#span-details .links a").click()

    assert page.locator("#span-details h2 .op").text_content() == "HTTP GET /dispatch"
    assert "selected" in row(page, root).get_attribute("class")


def test_a_span_id_in_the_url_opens_its_details(site, page):
    specs = dispatch("r-1")
    site.store(*specs)

    page.goto(site.url(f"/trace/{specs[0].trace_id.hex()}#{specs[3].span_id.hex()}"))

    assert page.locator("#span-details h2 .op").text_content() == "FindNearest"


def test_span_data_is_shown_as_text_never_as_markup(site, page):
    specs = hostile()
    evil = specs[1]
    open_trace(site, page, specs)

    assert row(page, evil).locator(".op").text_content() == SCRIPT_NAME
    row(page, evil).click()
    details = page.locator("#span-details")
    assert details.locator("h2 .op").text_content() == SCRIPT_NAME
    assert "<b>bold</b>" in details.locator("table.attributes").text_content()
    assert "<i>host</i>" in details.locator("table.resource").text_content()
    assert "<svg onload=alert(4)>" in details.locator(".events").text_content()
    page.locator('.view-tab[data-view="events"]').click()
    assert "<script>alert(3)</script>" in page.locator("#event-list").text_content()
    page.locator('.view-tab[data-view="flame"]').click()
    assert page.locator("#flame svg g.flame-box").count() == 2
    # No element that span data could have created exists anywhere on the page.
    assert page.locator("main b, main i, main em, main img, main svg svg").count() == 0
    inline = page.locator("script:not([src])").evaluate_all("scripts => scripts.map(s => s.type)")
    assert inline == ["application/json", "application/json"]
    assert "<script>alert" not in requests.get(page.url.split("#")[0], timeout=5).text


def test_the_critical_path_is_drawn_on_the_spans_the_trace_waited_for(site, page):
    specs = dispatch("r-1", drivers=2)
    root, customer, sql, driver, route_1, route_2 = specs
    open_trace(site, page, specs)

    on_path = set(page.eval_on_selector_all("#waterfall .row.critical", "rows => rows.map(r => r.dataset.spanId)"))
    assert on_path == {spec.span_id.hex() for spec in (root, customer, sql, driver, route_1, route_2)}
    assert row(page, sql).locator(".critical-segment").count() == 1
    assert "Critical path" in page.text_content("#critical-note")


def test_the_page_says_why_there_is_no_critical_path(site, page):
    root = SpanSpec("frontend", "root", duration_ns=10 * MS)
    orphan = SpanSpec("driver", "orphan", trace_id=root.trace_id, parent=SpanSpec("lost", "lost"))
    open_trace(site, page, [root, orphan])

    note = page.text_content("#critical-note")
    assert "cannot compute the critical path" in note
    assert orphan.parent.span_id.hex() in note
    assert page.locator("#waterfall .row").count() == 2


def test_error_spans_carry_a_marker(site, page):
    specs = hostile()
    open_trace(site, page, specs)

    assert row(page, specs[1]).locator(".error-mark").count() == 1
    assert row(page, specs[0]).locator(".error-mark").count() == 0


def test_the_events_view_lists_every_event_in_time_order(site, page):
    specs = dispatch("r-1")
    open_trace(site, page, specs)

    page.locator('.view-tab[data-view="events"]').click()

    names = page.eval_on_selector_all("#event-list tbody .event-name", "cells => cells.map(c => c.textContent)")
    assert names == ["dispatch started", "acquired lock"]


def test_the_flame_graph_has_a_box_per_span_and_opens_details(site, page):
    specs = dispatch("r-1")
    open_trace(site, page, specs)

    page.locator('.view-tab[data-view="flame"]').click()
    assert page.locator("#flame g.flame-box").count() == len(specs)
    page.locator(f'#flame g.flame-box[data-span-id="{specs[3].span_id.hex()}"] rect').click()

    assert page.locator("#span-details h2 .op").text_content() == "FindNearest"


def test_the_trace_downloads_as_json(site, page):
    specs = dispatch("r-1")
    open_trace(site, page, specs)

    with page.expect_download() as download:
        page.locator("a.download").click()
    body = download.value.path().read_text()

    assert specs[0].trace_id.hex() in body
    assert download.value.suggested_filename == f"trace-{specs[0].trace_id.hex()}.json"


def test_a_ten_thousand_span_trace_renders_only_the_rows_in_view(site, page):
    start = time.time_ns() - 60_000 * MS
    root = SpanSpec("frontend", "big", start_ns=start, duration_ns=20_000 * MS)
    specs = [root]
    for index in range(9_998):
        parent = specs[index // 10] if index % 3 else root
        specs.append(parent.child("worker", f"step {index}", start_ns=start + index * MS, duration_ns=MS))
    last = root.child("worker", "last step", start_ns=start + 19_000 * MS, duration_ns=MS)
    open_trace(site, page, [*specs, last])

    assert page.text_content("#span-count") == "10000"
    assert page.locator("#waterfall .row").count() < 200
    page.locator("#waterfall").evaluate("box => box.scrollTop = box.scrollHeight")
    row(page, last).wait_for()
    assert page.locator("#waterfall .row").count() < 200


def test_bars_are_labelled_with_their_durations(site, page):
    specs = dispatch("r-1", sql_ms=900, drivers=1)
    open_trace(site, page, specs)

    assert row(page, specs[0]).locator(".bar-label").text_content() == "1s"
    assert row(page, specs[2]).locator(".bar-label").text_content() == "900ms"
    assert row(page, specs[3]).locator(".bar-label").text_content() == "25ms"
