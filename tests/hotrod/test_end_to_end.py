"""A dispatch through ``hotrod all`` becomes one trace in the bundled backend, with every part of the story."""

from __future__ import annotations

import json

import pytest
import requests

from tests.hotrod.launcher import HotrodAll, find_trace, trace_id_of

SERVICES = {"frontend", "customer", "driver", "route"}


def tags(span: dict) -> dict:
    return {t["key"]: t["value"] for t in span["tags"]}


@pytest.fixture(scope="module")
def dispatched(hotrod: HotrodAll) -> tuple[requests.Response, dict]:
    reply = requests.get(
        f"{hotrod.frontend}/dispatch",
        params={"customer": 392},
        headers={"baggage": "session=e2e,request=e2e-1"},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    return reply, find_trace(hotrod.query, trace_id_of(reply), SERVICES)


def spans_of(trace: dict, service: str) -> list[dict]:
    processes = trace["processes"]
    return [s for s in trace["spans"] if processes[s["processID"]]["serviceName"] == service]


def test_startup_self_check_found_the_trace(hotrod: HotrodAll) -> None:
    text = hotrod.stderr_text()
    assert "self-check OK" in text, text
    assert f"HotROD page:  {hotrod.frontend}" in text
    assert f"Trace UI:     {hotrod.query}" in text


def test_dispatch_answers_with_the_best_driver(dispatched: tuple[requests.Response, dict]) -> None:
    body = dispatched[0].json()
    assert body["customer_id"] == 392 and body["customer_name"] == "Trom Chocolatier"
    assert body["driver"].startswith("T7") and body["eta_seconds"] >= 120


def test_one_trace_spans_all_four_services(dispatched: tuple[requests.Response, dict]) -> None:
    reply, trace = dispatched
    assert {s["traceID"] for s in trace["spans"]} == {trace_id_of(reply)}
    assert {p["serviceName"] for p in trace["processes"].values()} == SERVICES


def test_customer_lookup_is_a_sql_client_span(dispatched: tuple[requests.Response, dict]) -> None:
    sql = [s for s in spans_of(dispatched[1], "customer") if tags(s).get("db.system") == "sqlite"]
    statements = [tags(s).get("db.statement", "") for s in sql]
    assert any("FROM" in st and "customer" in st for st in statements), statements
    assert all(tags(s)["span.kind"] == "client" for s in sql)


def test_driver_search_uses_redis_geo_commands(dispatched: tuple[requests.Response, dict]) -> None:
    redis_ops = [s["operationName"] for s in spans_of(dispatched[1], "driver") if tags(s).get("db.system") == "redis"]
    assert "GEOSEARCH" in redis_ops
    assert redis_ops.count("HGETALL") == 10


def test_every_fifth_driver_fetch_times_out_and_is_retried(dispatched: tuple[requests.Response, dict]) -> None:
    fetches = [s for s in spans_of(dispatched[1], "driver") if s["operationName"] == "GetDriver"]
    failed = [s for s in fetches if tags(s).get("error") is True]
    assert failed, "no GetDriver span failed"
    assert len(fetches) == 10 + len(failed)  # each failure retried once, all ten drivers found
    timeouts = [
        s for s in spans_of(dispatched[1], "driver") if tags(s).get("db.system") == "redis" and tags(s).get("error")
    ]
    assert len(timeouts) == len(failed)
    assert any("Timeout" in json.dumps(s["logs"]) for s in failed)


def test_baggage_reaches_every_service_as_span_attributes(dispatched: tuple[requests.Response, dict]) -> None:
    trace = dispatched[1]
    for service in SERVICES:
        assert any(
            tags(s).get("request") == "e2e-1" and tags(s).get("session") == "e2e" for s in spans_of(trace, service)
        )
    route_spans = spans_of(trace, "route")
    assert route_spans and all(tags(s).get("customer") == "Trom Chocolatier" for s in route_spans)


def test_the_pages_find_trace_link_finds_it(hotrod: HotrodAll, dispatched: tuple[requests.Response, dict]) -> None:
    reply = requests.get(
        f"{hotrod.query}/api/traces",
        params={"service": "frontend", "tags": json.dumps({"request": "e2e-1"}), "lookback": "1h"},
        timeout=10,
    )
    assert [t["traceID"] for t in reply.json()["data"]] == [trace_id_of(dispatched[0])]


def test_route_counts_calculation_time_per_customer_and_session(
    hotrod: HotrodAll, dispatched: tuple[requests.Response, dict]
) -> None:
    metrics = requests.get(f"{hotrod.url('route')}/metrics", timeout=10).text
    assert 'hotrod_route_calc_by_customer_seconds_total{customer="Trom Chocolatier"}' in metrics
    assert 'hotrod_route_calc_by_session_seconds_total{session="e2e"}' in metrics


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("", 400, "missing"),
        ("?customer=abc", 400, "integer"),
        ("?customer=999", 404, "unknown customer 999"),
    ],
)
def test_bad_dispatch_requests_are_refused_with_a_reason(
    hotrod: HotrodAll, query: str, status: int, words: str
) -> None:
    reply = requests.get(f"{hotrod.frontend}/dispatch{query}", timeout=30)
    assert reply.status_code == status
    assert words in reply.json()["error"]


def test_the_page_offers_four_customers_and_links_to_the_trace_ui(hotrod: HotrodAll) -> None:
    page = requests.get(hotrod.frontend, timeout=10).text
    for customer in ("123", "392", "731", "567"):
        assert f'data-customer="{customer}"' in page
    assert "http" not in page.split("<body>")[1]  # no CDN: every asset is served by the frontend
    assert requests.get(f"{hotrod.frontend}/static/app.js", timeout=10).status_code == 200
    assert requests.get(f"{hotrod.frontend}/config", timeout=10).json() == {"trace_ui_url": hotrod.query}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_service_has_health_and_metrics(hotrod: HotrodAll, service: str) -> None:
    assert requests.get(f"{hotrod.url(service)}/health", timeout=10).json() == {"status": "ok", "service": service}
    metrics = requests.get(f"{hotrod.url(service)}/metrics", timeout=10).text
    assert f'hotrod_http_requests_total{{endpoint="/health",service="{service}",status="200"}}' in metrics
