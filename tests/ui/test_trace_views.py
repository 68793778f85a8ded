"""The trace page's statistics, spans table and graph views, its service filter and its view URLs, in Chromium."""

from __future__ import annotations

import time

import requests

from tests.builders import SpanSpec
from tests.ui.traces import MS, dispatch


def open_view(site, page, specs, query: str = "") -> None:
    site.store(*specs)
    page.goto(site.url(f"/trace/{specs[0].trace_id.hex()}{query}"))


def texts(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "nodes => nodes.map(n => n.textContent)")


def stat_row(page, kind: str, name: str):
    return page.locator(f'#stats-table tr.{kind}[data-name="{name}"]')


def test_statistics_count_time_and_self_time_per_service_and_operation(site, page):
    specs = dispatch("r-1", drivers=2)  # 450 ms: customer 305 (SQL 300 inside), driver 25, route 2 × 48
    open_view(site, page, specs, "?view=statistics")

    frontend = stat_row(page, "group", "frontend")
    assert frontend.locator(".count").text_content() == "1"
    assert frontend.locator(".total").text_content() == "450ms"
    assert frontend.locator(".selfTotal").text_content() == "24ms"  # 450 - (305 + 25 + 48 + 48)
    route = stat_row(page, "group", "route")
    assert [route.locator(f".{key}").text_content() for key in ("count", "total", "avg", "min", "max")] == [
        "2",
        "96ms",
        "48ms",
        "48ms",
        "48ms",
    ]
    customer = stat_row(page, "group", "customer")
    assert customer.locator(".selfTotal").text_content() == "5ms"
    assert stat_row(page, "group", "mysql").locator(".selfPercent").text_content() == "66.7%"


def test_statistics_sort_by_a_column_and_group_by_operation(site, page):
    specs = dispatch("r-1", drivers=2)
    open_view(site, page, specs, "?view=statistics")

    assert texts(page, "#stats-table tr.group .group-name")[0] == "frontend"  # by total time, largest first
    page.locator('#stats-table th[data-sort="selfTotal"]').click()
    assert texts(page, "#stats-table tr.group .group-name") == ["mysql", "route", "driver", "frontend", "customer"]
    assert "sort=-selfTotal" in page.url
    page.select_option("#stats-group", "operation")
    assert texts(page, "#stats-table tr.group .group-name")[0] == "SQL SELECT"
    assert texts(page, '#stats-table tr.group[data-name="HTTP GET /route"] ~ tr.sub .row-name')[0] == "route"
    assert "group=operation" in page.url


def test_the_spans_table_lists_every_span_with_self_time_and_status(site, page):
    specs = dispatch("r-1", drivers=2)
    specs[3].status_code = 2
    open_view(site, page, specs, "?view=table")

    assert page.text_content("#span-table-count") == f"{len(specs)} of {len(specs)} spans"
    root = page.locator(f'.trow[data-span-id="{specs[0].span_id.hex()}"]')
    assert [
        root.locator(f".{key}").text_content() for key in ("service", "operation", "duration", "self", "start")
    ] == [
        "frontend",
        "HTTP GET /dispatch",
        "450ms",
        "24ms",
        "+0µs",
    ]
    assert page.locator(f'.trow[data-span-id="{specs[3].span_id.hex()}"] .status').text_content() == "error"


def test_the_spans_table_sorts_filters_and_shows_a_chosen_attribute(site, page):
    specs = dispatch("r-1", drivers=2)
    open_view(site, page, specs, "?view=table")

    page.locator('.span-table-head [data-sort="self"]').click()
    assert texts(page, ".trow .operation")[0] == "SQL SELECT"
    page.fill("#span-filter", "route")
    assert texts(page, ".trow .operation") == ["HTTP GET /route", "HTTP GET /route"]
    page.fill("#span-filter", "")
    page.select_option("#attr-column", "http.method")
    assert page.locator(f'.trow[data-span-id="{specs[0].span_id.hex()}"] .attr').text_content() == "GET"
    assert "attr=http.method" in page.url and "order=-self" in page.url


def test_a_spans_table_row_opens_the_span_details(site, page):
    specs = dispatch("r-1")
    open_view(site, page, specs, "?view=table")

    page.locator(f'.trow[data-span-id="{specs[2].span_id.hex()}"]').click()

    assert page.locator("#span-details h2 .op").text_content() == "SQL SELECT"


def test_the_graph_has_a_node_per_service_and_operation_with_call_counts(site, page):
    specs = dispatch("r-1", drivers=3)
    open_view(site, page, specs, "?view=graph")

    nodes = page.locator("#trace-graph g.graph-node")
    assert nodes.count() == 5
    route = page.locator('#trace-graph g.graph-node[data-service="route"]')
    assert route.locator(".node-metrics").text_content().startswith("3 calls · 144ms")
    assert sorted(texts(page, "#trace-graph .edge-label")) == ["×1", "×1", "×1", "×3"]


def test_the_graph_of_a_ten_thousand_span_trace_stays_a_few_boxes(site, page):
    start = time.time_ns() - 60_000 * MS
    root = SpanSpec("frontend", "batch", start_ns=start, duration_ns=20_000 * MS)
    specs = [root]
    for index in range(3_333):
        call = root.child("route", "HTTP GET /route", start_ns=start + index * MS, duration_ns=3 * MS)
        specs += [call, call.child("redis", "GET", start_ns=call.start_ns + MS), call.child("redis", "SET")]
    open_view(site, page, specs, "?view=graph")

    assert page.locator("#trace-graph g.graph-node").count() == 4
    assert (
        page.locator('#trace-graph g.graph-node[data-operation="GET"] .node-metrics')
        .text_content()
        .startswith("3333 calls")
    )
    assert page.text_content("#graph-legend").startswith("4 nodes for 10000 spans")


def test_the_service_filter_folds_other_services_spans_and_filters_the_table(site, page):
    specs = dispatch("r-1", drivers=2)
    open_view(site, page, specs)

    page.locator("#service-filter summary").click()
    page.locator('#service-filter input[value="route"]').check()

    shown = page.eval_on_selector_all("#waterfall .row[data-span-id]", "rows => rows.map(r => r.dataset.spanId)")
    assert shown == [spec.span_id.hex() for spec in specs[4:]]
    assert texts(page, "#waterfall .row.folded") == ["⋯ 4 spans of other services"]
    assert page.url.endswith("?service=route")
    page.locator('.view-tab[data-view="table"]').click()
    assert page.text_content("#span-table-count") == f"2 of {len(specs)} spans"


def test_a_shared_link_opens_the_same_view_and_filter(site, page):
    specs = dispatch("r-1", drivers=2)
    open_view(site, page, specs, "?view=table&service=driver&service=mysql&order=-duration")

    assert page.locator("#view-table").is_visible()
    assert page.locator('.view-tab[data-view="table"]').get_attribute("class") == "view-tab active"
    assert texts(page, ".trow .operation") == ["SQL SELECT", "FindNearest"]
    assert page.text_content("#service-filter .filter-label") == "driver, mysql"


def test_switching_views_puts_the_view_in_the_url(site, page):
    specs = dispatch("r-1")
    open_view(site, page, specs)

    page.locator('.view-tab[data-view="graph"]').click()
    assert page.url.endswith("?view=graph")
    page.locator('.view-tab[data-view="timeline"]').click()
    assert "view=" not in page.url


def test_an_unknown_view_is_a_400_naming_the_views(site):
    specs = dispatch("r-1")
    site.store(*specs)

    response = requests.get(site.url(f"/trace/{specs[0].trace_id.hex()}?view=pie"), timeout=5)

    assert response.status_code == 400
    assert "unknown view &#39;pie&#39; (one of timeline, flame, statistics, table, graph, events)" in response.text


def test_self_time_counts_overlapping_children_once_and_clips_children_to_their_parent(site, page):
    start = time.time_ns() - 10_000 * MS
    root = SpanSpec("frontend", "parent", start_ns=start, duration_ns=100 * MS)
    parallel_1 = root.child("a", "parallel 1", start_ns=start + 10 * MS, duration_ns=40 * MS)
    parallel_2 = root.child("a", "parallel 2", start_ns=start + 30 * MS, duration_ns=40 * MS)
    outliving = root.child("b", "outliving", start_ns=start + 90 * MS, duration_ns=60 * MS)
    open_view(site, page, [root, parallel_1, parallel_2, outliving], "?view=table")

    # covered: 10-70 ms by the parallel pair, 90-100 ms by the child that outlives it → 30 ms its own
    assert page.locator(f'.trow[data-span-id="{root.span_id.hex()}"] .self').text_content() == "30ms"


def test_a_graph_column_keeps_its_busiest_nodes_and_folds_the_rest_into_one(site, page):
    start = time.time_ns() - 10_000 * MS
    root = SpanSpec("frontend", "fan-out", start_ns=start, duration_ns=200 * MS)
    calls = [root.child("worker", f"task {i}", start_ns=start + i * MS, duration_ns=(i + 1) * MS) for i in range(60)]
    open_view(site, page, [root, *calls], "?view=graph")

    assert page.locator("#trace-graph g.graph-node").count() == 1 + 25
    folded = page.locator("#trace-graph g.graph-node.folded")
    assert folded.locator(".node-operation").text_content() == "+36 more operations"
    assert folded.locator(".node-metrics").text_content().startswith("36 calls")
    assert page.locator('#trace-graph g.graph-node[data-operation="task 59"]').count() == 1  # the longest is kept


def test_a_graph_of_many_arrows_moves_their_counts_into_tooltips(site, page):
    start = time.time_ns() - 10_000 * MS
    root = SpanSpec("frontend", "root", start_ns=start, duration_ns=100 * MS)
    callers = [root.child("a", f"a{i}", start_ns=start + i * MS) for i in range(8)]
    callees = [caller.child("b", f"b{j}", start_ns=caller.start_ns + j) for caller in callers for j in range(8)]
    open_view(site, page, [root, *callers, *callees], "?view=graph")

    assert page.locator("#trace-graph .edge-label").count() == 0
    assert page.locator("#trace-graph g.graph-edge.crowded title").count() == 8 + 64
    assert "a: a0 → b: b0 ×1" in texts(page, "#trace-graph g.graph-edge title")
    assert "72 arrows" in page.text_content("#graph-legend")


def test_the_service_filter_leaves_other_services_out_of_the_flame_graph(site, page):
    specs = dispatch("r-1", drivers=2)
    open_view(site, page, specs, "?view=flame&service=customer&service=mysql")

    boxes = page.eval_on_selector_all("#flame g.flame-box", "boxes => boxes.map(b => b.dataset.spanId)")
    assert boxes == [specs[1].span_id.hex(), specs[2].span_id.hex()]
    assert page.text_content("#flame .filtered-note") == "4 spans of other services hidden by the service filter."


def test_the_service_filter_counts_only_its_services_in_the_statistics(site, page):
    specs = dispatch("r-1", drivers=2)
    open_view(site, page, specs, "?view=statistics&service=route")

    assert texts(page, "#stats-table .group-name") == ["route"]
    assert stat_row(page, "group", "route").locator(".count").text_content() == "2"


def test_the_service_filter_collapses_the_graph_through_hidden_services(site, page):
    specs = dispatch("r-1", drivers=2)
    open_view(site, page, specs, "?view=graph&service=frontend&service=mysql&service=route")

    assert sorted(texts(page, "#trace-graph .node-service")) == ["frontend", "mysql", "route"]
    edges = sorted(texts(page, "#trace-graph .graph-edge title"))
    assert edges == [
        "frontend: HTTP GET /dispatch → mysql: SQL SELECT ×1",
        "frontend: HTTP GET /dispatch → route: HTTP GET /route ×2",
    ]
    assert page.text_content("#graph-legend").startswith("3 nodes for 4 spans of the services the filter shows")


def test_the_service_filter_lists_only_its_services_events(site, page):
    specs = dispatch("r-1", drivers=2)
    open_view(site, page, specs, "?view=events")
    assert sorted(texts(page, "#event-list .event-name")) == ["acquired lock", "dispatch started"]

    page.goto(site.url(f"/trace/{specs[0].trace_id.hex()}?view=events&service=mysql"))

    assert texts(page, "#event-list .event-name") == ["acquired lock"]


def test_changing_the_filter_redraws_the_open_view_and_keeps_it_in_the_url(site, page):
    specs = dispatch("r-1", drivers=2)
    open_view(site, page, specs, "?view=statistics")
    assert sorted(texts(page, "#stats-table .group-name")) == ["customer", "driver", "frontend", "mysql", "route"]

    page.locator("#service-filter summary").click()
    page.locator('#service-filter input[value="driver"]').check()
    assert texts(page, "#stats-table .group-name") == ["driver"]
    assert page.url.endswith("?view=statistics&service=driver")
    page.locator('.view-tab[data-view="graph"]').click()
    assert texts(page, "#trace-graph .node-service") == ["driver"]
    page.locator('#service-filter input[value="driver"]').uncheck()
    assert len(texts(page, "#trace-graph .node-service")) == 5
    page.locator('.view-tab[data-view="statistics"]').click()
    assert len(texts(page, "#stats-table .group-name")) == 5
