"""``/upload`` in Chromium: a Jaeger or OTLP JSON file opened in the browser, shown with every view, stored nowhere."""

from __future__ import annotations

import json

import pytest
import requests

from tests.builders import otlp_json
from tests.ui.traces import dispatch


def open_file(
    site, page, tmp_path, content: str, query: str = "", name: str = "trace.json", shown: bool = True
) -> None:
    """Choose the file on the page; with ``shown``, wait until its (first) trace is drawn."""
    file = tmp_path / name
    file.write_text(content)
    page.goto(site.url("/upload" + query))
    page.set_input_files("#upload-file", str(file))
    page.locator("#trace-root #span-count" if shown else "#upload-error").wait_for()


def jaeger_file(site, *traces) -> str:
    """Jaeger JSON of stored traces, as the trace page's "Download JSON" saves it."""
    for specs in traces:
        site.store(*specs)
    ids = [("traceID", specs[0].trace_id.hex()) for specs in traces]
    body = requests.get(site.url("/api/traces"), params=ids, timeout=5).json()
    return json.dumps(body)


def test_a_jaeger_file_shows_its_trace_with_the_critical_path(site, page, tmp_path):
    specs = dispatch("r-1", drivers=2)
    open_file(site, page, tmp_path, jaeger_file(site, specs))

    assert page.text_content("#root-operation") == "HTTP GET /dispatch"
    assert page.text_content("#span-count") == "6"
    assert page.text_content("#trace-duration") == "450ms"
    assert page.text_content("#trace-depth") == "3"
    assert page.locator("#waterfall .row").count() == 6
    page.locator("#critical-note", has_text="Critical path highlighted in dark.").wait_for()
    assert page.locator("#waterfall .row.critical").count() == 6


def test_the_critical_path_request_carries_only_what_the_path_reads(site, page, tmp_path):
    specs = dispatch("r-1", drivers=2)
    content = jaeger_file(site, specs)
    with page.expect_request("**/upload/critical-path") as posted:
        open_file(site, page, tmp_path, content)
    spans = posted.value.post_data_json["spans"]

    assert len(spans) == 6
    fields = {"traceID", "spanID", "operationName", "references", "startTime", "duration", "tags"}
    assert all(set(span) == fields for span in spans)
    assert {tag["key"] for span in spans for tag in span["tags"]} == {"span.kind"}
    page.locator("#critical-note", has_text="Critical path highlighted in dark.").wait_for()
    assert page.locator("#waterfall .row.critical").count() == 6


def test_a_tag_that_is_not_an_object_is_still_sent_and_refused_for_the_critical_path(site, page, tmp_path):
    body = json.loads(jaeger_file(site, dispatch("r-1", drivers=2)))
    body["data"][0]["spans"][0]["tags"].append("not a tag")
    open_file(site, page, tmp_path, json.dumps(body))

    page.locator("#critical-note", has_text="no critical path: a span lacks a field").wait_for()
    assert page.text_content("#span-count") == "6"


def test_every_trace_view_draws_an_opened_file(site, page, tmp_path):
    specs = dispatch("r-1", drivers=2)
    open_file(site, page, tmp_path, jaeger_file(site, specs), "?view=statistics")

    assert page.locator("#stats-table tr.group").count() == 5
    page.locator('.view-tab[data-view="table"]').click()
    assert page.text_content("#span-table-count") == "6 of 6 spans"
    page.locator('.view-tab[data-view="graph"]').click()
    assert page.locator("#trace-graph g.graph-node").count() == 5
    page.locator('.view-tab[data-view="flame"]').click()
    assert page.locator("#flame g.flame-box").count() == 6
    page.locator('.view-tab[data-view="events"]').click()
    assert page.locator("#event-list tbody tr").count() == 2
    assert page.url.endswith("/upload?view=events")


def test_the_service_filter_of_an_opened_file_applies_to_its_views_and_keeps_the_critical_path(site, page, tmp_path):
    specs = dispatch("r-1", drivers=2)
    open_file(site, page, tmp_path, jaeger_file(site, specs), "?view=statistics&service=route")
    page.locator("#critical-note", has_text="Critical path highlighted in dark.").wait_for()

    assert page.eval_on_selector_all("#stats-table .group-name", "n => n.map(e => e.textContent)") == ["route"]
    page.locator("#service-filter summary").click()
    page.locator('#service-filter input[value="mysql"]').check()
    assert sorted(page.eval_on_selector_all("#stats-table .group-name", "n => n.map(e => e.textContent)")) == [
        "mysql",
        "route",
    ]
    page.locator('.view-tab[data-view="flame"]').click()
    assert page.locator("#flame g.flame-box").count() == 3
    assert page.text_content("#critical-note") == "Critical path highlighted in dark."


def test_an_otlp_file_is_read_through_the_transform_api_and_not_stored(site, page, tmp_path):
    specs = dispatch("r-1", drivers=2)
    open_file(site, page, tmp_path, json.dumps(otlp_json(specs)))

    assert page.text_content("#root-service") == "frontend"
    assert page.text_content("#span-count") == "6"
    assert requests.get(site.url("/api/services"), timeout=5).json()["data"] == []


def test_an_otlp_file_of_one_document_per_line_is_read_whole(site, page, tmp_path):
    specs = dispatch("r-1", drivers=2)
    lines = "\n".join(json.dumps(otlp_json([spec])) for spec in specs)
    open_file(site, page, tmp_path, lines, name="trace.jsonl")

    assert page.text_content("#span-count") == "6"


def test_a_file_of_several_traces_lists_them_to_choose_from(site, page, tmp_path):
    first, second = dispatch("r-1", drivers=1), dispatch("r-2", drivers=3)
    open_file(site, page, tmp_path, jaeger_file(site, first, second))

    assert page.locator("#upload-traces li").count() == 2
    page.locator("#upload-traces li").filter(has_text="7 spans").locator("button").click()
    page.locator("#span-count", has_text="7").wait_for()
    assert page.text_content("#trace-id") == second[0].trace_id.hex()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "trace.json: the file is not JSON: "),
        ('{"traces": []}', 'trace.json: the file is neither Jaeger JSON ({"data": [traces]}) nor OTLP JSON'),
        ('{"data": []}', "trace.json: the file holds no traces"),
        ('{"data": [{"spans": [], "processes": {}}]}', "trace.json: trace 1 has no spans"),
        (
            '{"data": [{"processes": {"p1": {"serviceName": "a"}}, "spans": [{"traceID": "1", "spanID": "2",'
            ' "operationName": "x", "processID": "p1", "startTime": "soon", "duration": 1}]}]}',
            "trace.json: trace 1, span 1: startTime must be a number of microseconds",
        ),
        (
            '{"data": [{"processes": {}, "spans": [{"traceID": "1", "spanID": "2",'
            ' "operationName": "x", "processID": "p1", "startTime": 1, "duration": 1}]}]}',
            "trace.json: trace 1, span 1: process p1 is not in the trace's processes",
        ),
        (
            '{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}',
            "trace.json: the OTLP file was refused: ",
        ),
    ],
    ids=["not-json", "unknown-shape", "no-traces", "no-spans", "bad-field", "missing-process", "bad-otlp"],
)
def test_a_bad_file_says_what_is_wrong(site, page, tmp_path, content, message):
    open_file(site, page, tmp_path, content, shown=False)

    assert page.text_content("#upload-error").startswith(message)
    assert page.locator("#trace-root *").count() == 0


def test_a_parent_loop_is_refused_rather_than_spans_going_missing(site, page, tmp_path):
    span = {"traceID": "1", "operationName": "x", "processID": "p1", "startTime": 1, "duration": 1}
    a = {**span, "spanID": "a", "references": [{"refType": "CHILD_OF", "traceID": "1", "spanID": "b"}]}
    b = {**span, "spanID": "b", "references": [{"refType": "CHILD_OF", "traceID": "1", "spanID": "a"}]}
    trace = {"processes": {"p1": {"serviceName": "s"}}, "spans": [a, b]}
    open_file(site, page, tmp_path, json.dumps({"data": [trace]}), shown=False)

    assert "is its own ancestor" in page.text_content("#upload-error")


def test_the_critical_path_endpoint_refuses_what_is_not_a_trace(site):
    response = requests.post(site.url("/upload/critical-path"), json={"spans": [{"spanID": "a"}]}, timeout=5)

    assert response.status_code == 400
    assert response.json()["error"].startswith("a span lacks a field or has one of the wrong type")
