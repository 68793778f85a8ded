"""GET /api/traces: every search parameter the Jaeger UI (or a person) sends, and multi-get by traceID."""

from __future__ import annotations

import json
import time

from tests.builders import SpanSpec
from tests.query.conftest import Api

NOW_NS = time.time_ns()
MINUTE_NS = 60_000_000_000


def found(api: Api, **params) -> set[str]:
    response = api.get("/api/traces", **params)
    assert response.status_code == 200, response.json
    return {trace["traceID"] for trace in response.json["data"]}


def ids(*specs: SpanSpec) -> set[str]:
    return {spec.trace_id.hex() for spec in specs}


def test_service_selects_traces_with_a_span_of_that_service(api):
    frontend, driver = SpanSpec("frontend", "op"), SpanSpec("driver", "op")
    api.store(frontend, driver)

    assert found(api, service="driver") == ids(driver)


def test_a_trace_is_found_by_the_service_of_any_of_its_spans(api):
    root = SpanSpec("frontend", "root")
    api.store(root, root.child("route", "compute"))

    assert found(api, service="route") == ids(root)


def test_operation_narrows_the_search(api):
    dispatch, config = SpanSpec("frontend", "/dispatch"), SpanSpec("frontend", "/config")
    api.store(dispatch, config)

    assert found(api, service="frontend", operation="/config") == ids(config)


def test_tags_as_a_json_object(api):
    get, post = (
        SpanSpec("frontend", "op", attributes={"http.method": "GET", "http.status_code": 200}),
        SpanSpec("frontend", "op", attributes={"http.method": "POST", "http.status_code": 200}),
    )
    api.store(get, post)

    assert found(api, service="frontend", tags=json.dumps({"http.method": "POST", "http.status_code": "200"})) == ids(
        post
    )


def test_tags_as_logfmt_with_a_quoted_value(api):
    match = SpanSpec("customer", "op", attributes={"sql.query": "SELECT * FROM customer", "db": "mysql"})
    other = SpanSpec("customer", "op", attributes={"sql.query": "SELECT 1", "db": "mysql"})
    api.store(match, other)

    assert found(api, service="customer", tags='db=mysql sql.query="SELECT * FROM customer"') == ids(match)


def test_repeated_tag_parameters_are_all_required(api):
    both = SpanSpec("driver", "op", attributes={"a": "1", "b": "x:y"})
    one = SpanSpec("driver", "op", attributes={"a": "1", "b": "z"})
    api.store(both, one)

    response = api.client.get("/api/traces", query_string=[("service", "driver"), ("tag", "a:1"), ("tag", "b:x:y")])

    assert {trace["traceID"] for trace in response.json["data"]} == ids(both)


def test_error_true_finds_traces_with_an_error_span(api):
    failed = SpanSpec("driver", "op", status_code=2)
    fine = SpanSpec("driver", "op")
    api.store(failed, fine)

    assert found(api, service="driver", tags='{"error":"true"}') == ids(failed)


def test_start_and_end_in_microseconds_bound_the_span_start(api):
    old = SpanSpec("frontend", "op", start_ns=NOW_NS - 30 * MINUTE_NS)
    recent = SpanSpec("frontend", "op", start_ns=NOW_NS - 5 * MINUTE_NS)
    api.store(old, recent)

    window = {"start": (NOW_NS - 40 * MINUTE_NS) // 1000, "end": (NOW_NS - 20 * MINUTE_NS) // 1000}

    assert found(api, service="frontend", **window) == ids(old)


def test_lookback_reaches_back_from_now(api):
    old = SpanSpec("frontend", "op", start_ns=NOW_NS - 3 * 60 * MINUTE_NS)
    recent = SpanSpec("frontend", "op", start_ns=NOW_NS - 10 * MINUTE_NS)
    api.store(old, recent)

    assert found(api, service="frontend", lookback="1h") == ids(recent)
    assert found(api, service="frontend", lookback="2d") == ids(old, recent)


def test_lookback_custom_leaves_the_window_to_start_and_end(api):
    old = SpanSpec("frontend", "op", start_ns=NOW_NS - 3 * 60 * MINUTE_NS)
    api.store(old)

    window = {"start": (NOW_NS - 4 * 60 * MINUTE_NS) // 1000, "end": NOW_NS // 1000, "lookback": "custom"}

    assert found(api, service="frontend", **window) == ids(old)


def test_without_start_the_default_lookback_is_two_days(api):
    last_week = SpanSpec("frontend", "op", start_ns=NOW_NS - 7 * 24 * 60 * MINUTE_NS)
    yesterday = SpanSpec("frontend", "op", start_ns=NOW_NS - 24 * 60 * MINUTE_NS)
    api.store(last_week, yesterday)

    assert found(api, service="frontend") == ids(yesterday)


def test_min_and_max_duration_take_go_durations(api):
    fast = SpanSpec("route", "op", duration_ns=50_000)  # 50us
    medium = SpanSpec("route", "op", duration_ns=300_000_000)  # 300ms
    slow = SpanSpec("route", "op", duration_ns=1_500_000_000)  # 1.5s
    api.store(fast, medium, slow)

    assert found(api, service="route", minDuration="100us") == ids(medium, slow)
    assert found(api, service="route", maxDuration="1.2s") == ids(fast, medium)
    assert found(api, service="route", minDuration="300ms", maxDuration="1.2s") == ids(medium)


def test_limit_caps_the_number_of_traces_newest_first(api):
    specs = [SpanSpec("frontend", "op", start_ns=NOW_NS - (10 - i) * MINUTE_NS) for i in range(5)]
    api.store(*specs)

    assert found(api, service="frontend", limit=2) == ids(*specs[-2:])


def test_no_match_is_an_empty_list(api):
    api.store(SpanSpec("frontend", "op"))

    body = api.get("/api/traces", service="frontend", operation="nothing").json

    assert body == {"data": [], "total": 0, "limit": 0, "offset": 0, "errors": None}


def test_unknown_parameters_are_ignored_as_jaeger_ignores_them(api):
    spec = SpanSpec("frontend", "op")
    api.store(spec)

    assert found(api, service="frontend", colour="blue", raw="true") == ids(spec)


def test_repeated_trace_ids_fetch_each_trace_in_order(api):
    first, second = SpanSpec("frontend", "a"), SpanSpec("driver", "b")
    api.store(first, second)

    response = api.client.get(
        "/api/traces", query_string=[("traceID", second.trace_id.hex()), ("traceID", first.trace_id.hex())]
    )

    assert [trace["traceID"] for trace in response.json["data"]] == [second.trace_id.hex(), first.trace_id.hex()]
    assert response.json["errors"] is None


def test_a_missing_trace_in_a_multi_get_is_reported_in_errors_beside_the_found_ones(api):
    stored = SpanSpec("frontend", "a")
    api.store(stored)
    missing = "0123456789abcdef0123456789abcdef"

    response = api.client.get("/api/traces", query_string=[("traceID", stored.trace_id.hex()), ("traceID", missing)])

    assert response.status_code == 200
    assert [trace["traceID"] for trace in response.json["data"]] == [stored.trace_id.hex()]
    assert response.json["errors"] == [{"msg": "trace not found", "traceID": missing}]


def test_a_64_bit_trace_id_is_padded_to_128_bits(api):
    spec = SpanSpec("legacy", "op", trace_id=bytes(8) + bytes.fromhex("1234567890abcdef"))
    api.store(spec)

    assert found(api, traceID="1234567890abcdef") == {"1234567890abcdef"}
