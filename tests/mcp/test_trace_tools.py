"""Jaeger's tools over traces sent to the backend over OTLP, each answer checked against the trace's known shape."""

from __future__ import annotations

import time

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from tests.builders import SpanSpec
from tests.mcp.client import result
from tests.mcp.conftest import Backend

MS = 1_000_000


@pytest.fixture(scope="module")
def checkout(backend: Backend) -> dict[str, SpanSpec]:
    """shop: POST /checkout 100 ms -> payments: charge 10..40 ms (fails, card: declined) ; stock: reserve 50..90 ms."""
    start = time.time_ns() - 60_000 * MS
    root = SpanSpec("shop", "POST /checkout", start_ns=start, duration_ns=100 * MS, attributes={"http.method": "POST"})
    charge = root.child("payments", "charge", start_ns=start + 10 * MS, duration_ns=30 * MS,
                        kind=Span.SPAN_KIND_CLIENT, status_code=Status.STATUS_CODE_ERROR,
                        status_message="card declined", attributes={"card": "declined"},
                        events=[("exception", 5 * MS, {"exception.type": "Declined"})])  # fmt: skip
    reserve = root.child("stock", "reserve", start_ns=start + 50 * MS, duration_ns=40 * MS)
    backend.store(root, charge, reserve)
    return {"root": root, "charge": charge, "reserve": reserve}


def test_get_services_and_span_names_list_what_was_sent(backend: Backend, checkout: dict[str, SpanSpec]):
    services = result(backend.mcp, "get_services", pattern="^(shop|stock)$")
    names = result(backend.mcp, "get_span_names", service_name="payments", span_kind="CLIENT")

    assert services == {"services": ["shop", "stock"], "total_count": 2, "truncated": False}
    assert names["span_names"] == [{"name": "charge", "span_kind": "client"}]


def test_get_services_says_when_its_limit_truncated_the_list(backend: Backend, checkout: dict[str, SpanSpec]):
    answer = result(backend.mcp, "get_services", limit=1)

    assert (len(answer["services"]), answer["truncated"]) == (1, True)
    assert answer["total_count"] >= 3


def test_search_traces_summarizes_the_trace(backend: Backend, checkout: dict[str, SpanSpec]):
    answer = result(backend.mcp, "search_traces", service_name="payments", start_time_min="-2h", with_errors=True)

    [summary] = answer["traces"]
    assert summary["trace_id"] == checkout["root"].trace_id.hex()
    assert (summary["root_service"], summary["root_span_name"]) == ("shop", "POST /checkout")
    assert (summary["duration_us"], summary["span_count"], summary["has_errors"]) == (100_000, 3, True)
    assert summary["services"] == ["payments", "shop", "stock"]


def test_get_trace_topology_lists_spans_depth_first_with_their_paths(backend: Backend, checkout: dict[str, SpanSpec]):
    trace_id = checkout["root"].trace_id.hex()
    root, charge, reserve = (checkout[name].span_id.hex() for name in ("root", "charge", "reserve"))

    answer = result(backend.mcp, "get_trace_topology", trace_id=trace_id)
    shallow = result(backend.mcp, "get_trace_topology", trace_id=trace_id, depth=1)

    assert [(s["path"], s["span_name"], s["status"]) for s in answer["spans"]] == [
        (root, "POST /checkout", "Unset"),
        (f"{root}/{charge}", "charge", "Error"),
        (f"{root}/{reserve}", "reserve", "Unset"),
    ]
    assert [(s["path"], s["truncated_children"]) for s in shallow["spans"]] == [(root, 2)]


def test_get_span_details_returns_attributes_events_and_status_and_names_missing_ids(
    backend: Backend, checkout: dict[str, SpanSpec]
):
    charge = checkout["charge"]
    answer = result(backend.mcp, "get_span_details", trace_id=charge.trace_id.hex(),
                    span_ids=[charge.span_id.hex(), "00000000000000aa"])  # fmt: skip

    [span] = answer["spans"]
    assert (span["service"], span["span_name"], span["parent_span_id"]) == (
        "payments",
        "charge",
        checkout["root"].span_id.hex(),
    )
    assert span["status"] == {"code": "Error", "message": "card declined"}
    assert span["attributes"] == {"card": "declined"}
    assert span["events"][0]["name"] == "exception"
    assert answer["error"] == "spans not found: 00000000000000aa"


def test_get_trace_errors_returns_the_error_spans(backend: Backend, checkout: dict[str, SpanSpec]):
    answer = result(backend.mcp, "get_trace_errors", trace_id=checkout["root"].trace_id.hex())

    assert answer["total_error_count"] == 1
    assert [span["span_name"] for span in answer["spans"]] == ["charge"]


def test_get_critical_path_gives_segments_and_ranks_the_spans_by_self_time(
    backend: Backend, checkout: dict[str, SpanSpec]
):
    answer = result(backend.mcp, "get_critical_path", trace_id=checkout["root"].trace_id.hex())

    assert [(s["span_name"], s["start_offset_us"], s["end_offset_us"]) for s in answer["segments"]] == [
        ("POST /checkout", 0, 10_000), ("charge", 10_000, 40_000), ("POST /checkout", 40_000, 50_000),
        ("reserve", 50_000, 90_000), ("POST /checkout", 90_000, 100_000),
    ]  # fmt: skip
    assert (answer["total_duration_us"], answer["critical_path_duration_us"]) == (100_000, 100_000)
    assert [(h["span_name"], h["self_time_us"]) for h in answer["hotspots"]] == [
        ("reserve", 40_000),
        ("POST /checkout", 30_000),  # a tie: the span that started first comes first
        ("charge", 30_000),
    ]


def test_get_service_dependencies_counts_calls_between_services(backend: Backend, checkout: dict[str, SpanSpec]):
    answer = result(backend.mcp, "get_service_dependencies", start_time="-2h")

    links = {(link["caller"], link["callee"]): link["call_count"] for link in answer["dependencies"]}
    assert links[("shop", "payments")] >= 1 and links[("shop", "stock")] >= 1


def test_find_error_root_cause_names_the_failed_span_and_that_the_request_did_not_fail(
    backend: Backend, checkout: dict[str, SpanSpec]
):
    answer = result(backend.mcp, "find_error_root_cause", trace_id=checkout["root"].trace_id.hex())

    [cause] = answer["root_causes"]
    assert (cause["service"], cause["span_name"], cause["status_message"]) == ("payments", "charge", "card declined")
    assert [span["span_name"] for span in cause["chain"]] == ["POST /checkout", "charge"]
    assert (answer["request_failed"], cause["reached_root"]) == (False, False)


def test_detect_n_plus_one_finds_sequential_repeated_queries(backend: Backend):
    start = time.time_ns() - 30_000 * MS
    root = SpanSpec("orders", "GET /orders", start_ns=start, duration_ns=100 * MS)
    queries = [root.child("orders", "SELECT item", start_ns=start + (1 + 10 * i) * MS, duration_ns=8 * MS,
                          kind=Span.SPAN_KIND_CLIENT) for i in range(6)]  # fmt: skip
    trace_id = backend.store(root, *queries)

    answer = result(backend.mcp, "detect_n_plus_one", trace_id=trace_id)

    [finding] = answer["findings"]
    assert answer["total_findings"] == 1

    assert (finding["service"], finding["span_name"], finding["calls"], finding["execution"]) == (
        "orders", "SELECT item", 6, "sequential",
    )  # fmt: skip
    assert (finding["wall_time_us"], finding["parent_share_percent"]) == (48_000, 48.0)
    assert finding["span_ids"] == [query.span_id.hex() for query in queries]
