"""The analyses name HotROD's bugs in traces from ``hotrod all``, over MCP, and a fix flag changes the finding.

Delays run at half scale (route calls ~25 ms): short enough to keep the test
quick, long enough that ten calls started together overlap on a busy machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.hotrod.launcher import HotrodAll, find_trace, start_hotrod_all, trace_id_of
from tests.mcp.client import result

SCALE = ("--delay-scale=0.5", "--skip-check")
SERVICES = {"frontend", "customer", "driver", "route"}
CONCURRENT = 8


def mcp(hotrod: HotrodAll) -> str:
    return f"{hotrod.query}/api/ai/mcp"


def dispatch(hotrod: HotrodAll, customer: int = 123) -> str:
    """One dispatch; the id of its trace once every service's spans are stored."""
    reply = requests.get(f"{hotrod.frontend}/dispatch", params={"customer": customer}, timeout=60)
    assert reply.status_code == 200, reply.text
    trace_id = trace_id_of(reply)
    find_trace(hotrod.query, trace_id, SERVICES)
    return trace_id


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, HotrodAll]]:
    """HotROD as shipped, and with the route pool fixed; started (and stopped) side by side to save time."""
    flags = {"buggy": SCALE, "fixed": (*SCALE, "--fix-route-worker-pool-size=100")}
    with ThreadPoolExecutor(2) as pool:
        processes = pool.map(lambda name: start_hotrod_all(tmp_path_factory.mktemp(name), *flags[name]), flags)
        started = dict(zip(flags, processes, strict=True))
    yield started
    with ThreadPoolExecutor(2) as pool:
        codes = list(pool.map(lambda running: running.stop(), started.values()))
    assert codes == [0, 0], [running.stderr_text() for running in started.values()]


@pytest.fixture(scope="module")
def buggy(demos: dict[str, HotrodAll]) -> HotrodAll:
    return demos["buggy"]


def findings_by_operation(hotrod: HotrodAll, trace_id: str) -> dict[str, dict]:
    findings = result(mcp(hotrod), "detect_n_plus_one", trace_id=trace_id)["findings"]
    return {f"{f['service']} {f['span_name']} {f['callee_service']}".strip(): f for f in findings}


def test_detect_n_plus_one_names_driver_getdriver_ten_sequential_calls(buggy: HotrodAll):
    findings = findings_by_operation(buggy, dispatch(buggy))

    driver = findings["driver GetDriver"]
    assert (driver["calls"], driver["execution"], driver["parent_span_name"]) == (10, "sequential", "GET /drivers")
    assert driver["span_count"] == 10 + driver["retries"]  # the fetches that timed out were tried again


def test_the_route_calls_run_serialized_three_at_a_time(buggy: HotrodAll):
    route = findings_by_operation(buggy, dispatch(buggy))["frontend GET route"]

    assert (route["calls"], route["callee_span_name"]) == (10, "GET /route")
    assert (route["execution"], route["max_concurrency"]) == ("bounded", 3)
    assert "serialized 3 at a time" in route["summary"]


def test_with_the_route_pool_fixed_the_route_calls_run_in_parallel(demos: dict[str, HotrodAll]):
    fixed = demos["fixed"]
    route = findings_by_operation(fixed, dispatch(fixed))["frontend GET route"]

    assert (route["calls"], route["execution"]) == (10, "parallel")
    assert route["max_concurrency"] > 5  # all ten at once on a quiet machine


def test_under_concurrent_dispatches_the_critical_path_is_led_by_customers_database(demos: dict[str, HotrodAll]):
    # the process whose route pool is fixed: its database mutex is still on, and no route call queues
    # behind another dispatch's, so what the test sees is the database alone
    hotrod = demos["fixed"]
    with ThreadPoolExecutor(CONCURRENT) as pool:
        trace_ids = list(pool.map(lambda _: dispatch(hotrod), range(CONCURRENT)))
    paths = [result(mcp(hotrod), "get_critical_path", trace_id=trace_id) for trace_id in trace_ids]

    leaders = [(path["hotspots"][0]["service"], path["hotspots"][0]["span_name"]) for path in paths]
    assert all(service == "customer" for service, _ in leaders), leaders
    assert all(name.startswith("SELECT") or name == "wait for db connection" for _, name in leaders), leaders
    slowest = max(paths, key=lambda path: path["total_duration_us"])
    assert slowest["hotspots"][0]["span_name"] == "wait for db connection"  # queued behind the others' queries


def test_the_driver_timeouts_start_in_redis_and_the_dispatch_recovers(buggy: HotrodAll):
    answer = result(mcp(buggy), "find_error_root_cause", trace_id=dispatch(buggy))

    assert answer["root_causes"] and not answer["request_failed"]
    for cause in answer["root_causes"]:
        assert (cause["service"], cause["span_name"]) == ("driver", "BLPOP")
        assert [span["span_name"] for span in cause["chain"]][-2:] == ["GetDriver", "BLPOP"]


def test_each_of_jaegers_tools_answers_on_a_dispatch_trace(buggy: HotrodAll):
    url, trace_id = mcp(buggy), dispatch(buggy)

    assert set(result(url, "get_services")["services"]) >= SERVICES
    assert "GetDriver" in {span["name"] for span in result(url, "get_span_names", service_name="driver")["span_names"]}
    found = result(url, "search_traces", service_name="frontend", span_name="GET /dispatch", search_depth=50)
    assert trace_id in {summary["trace_id"] for summary in found["traces"]}
    topology = result(url, "get_trace_topology", trace_id=trace_id, depth=2)["spans"]
    assert [span["span_name"] for span in topology][:1] == ["GET /dispatch"]
    errors = result(url, "get_trace_errors", trace_id=trace_id)
    assert {span["span_name"] for span in errors["spans"]} == {"GetDriver", "BLPOP"}
    failed = next(span for span in errors["spans"] if span["span_name"] == "GetDriver")
    [detail] = result(url, "get_span_details", trace_id=trace_id, span_ids=[failed["span_id"]])["spans"]
    assert detail["status"] == {"code": "Error", "message": "redis timeout"}
    assert "exception" in {event["name"] for event in detail["events"]}
    links = result(url, "get_service_dependencies")["dependencies"]
    assert {(link["caller"], link["callee"]) for link in links} >= {("frontend", "route"), ("frontend", "driver")}
    assert "GetDriver" in result(url, "read_skill", path="hotrod-bugs/SKILL.md")["instructions"]
