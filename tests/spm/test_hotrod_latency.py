"""HotROD's contention bug in the metrics API's numbers: customer latency rises under load, falls with the fix."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
import yaml

from backend.cli import apply_flags
from backend.config import read, set_path
from tests.hotrod.conftest import FAST
from tests.hotrod.launcher import HotrodAll, start_hotrod_all
from tests.spm.conftest import PORTS
from tests.support import wait_for
from tests.ui.conftest import screenshots_wanted

CONCURRENT = 8
RESOLUTION_MS = 100  # fine buckets, so each phase of the test has its own


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HotrodAll, str]]:
    """``hotrod all`` on ports of its choosing, spanmetrics at a fine resolution; (process, query URL)."""
    folder = tmp_path_factory.mktemp("hotrod-spm")
    tree = read(None)
    apply_flags(tree, "sqlite", f"sqlite:///{folder / 'traces.db'}", None, dict.fromkeys(PORTS, 0))
    set_path(tree, "processors.spanmetrics.resolution", f"{RESOLUTION_MS}ms", "test")
    set_path(tree, "processors.spanmetrics.retention", "10m", "test")
    config = folder / "backend.yaml"
    config.write_text(yaml.safe_dump(tree))
    running = start_hotrod_all(folder, *FAST, "--skip-check", f"--backend-config={config}")
    yield running, running.url("query")
    assert running.stop() == 0, running.stderr_text()


def dispatch(frontend: str, count: int, at_once: int) -> None:
    def one(index: int) -> None:
        reply = requests.get(f"{frontend}/dispatch", params={"customer": 392}, timeout=60)
        assert reply.status_code == 200, reply.text

    with ThreadPoolExecutor(at_once) as pool:
        list(pool.map(one, range(count)))


def customer(query: str, kind: str, start_ms: int, end_ms: int, **params: Any) -> float | None:
    """The customer service's server-span metric over ``(start, end]`` as one point; None without data."""
    reach = end_ms - start_ms - RESOLUTION_MS  # leave out the bucket the phase began in
    body = requests.get(
        f"{query}/api/metrics/{kind}",
        params={"service": "customer", "endTs": end_ms, "lookback": reach, "step": reach, "ratePer": reach, **params},
        timeout=10,
    ).json()
    if not body["metrics"] or not body["metrics"][0]["metricPoints"]:
        return None
    return body["metrics"][0]["metricPoints"][-1]["gaugeValue"]["doubleValue"]


def phase(demo: tuple[HotrodAll, str], count: int, at_once: int, counted_before: int) -> tuple[int, int]:
    """Run ``count`` dispatches ``at_once``; (start, end) in unix ms once all their customer spans are counted."""
    running, query = demo
    start_ms = int(time.time() * 1000)
    dispatch(running.frontend, count, at_once)

    def counted() -> int | None:
        now_ms = int(time.time() * 1000)
        calls = customer(query, "calls", start_ms - 600_000, now_ms)  # any window wider than the test
        total = round(calls * (now_ms - start_ms + 600_000 - RESOLUTION_MS) / 1000) if calls else 0
        return now_ms if total >= counted_before + count else None

    end_ms = wait_for(counted, timeout=30, what=f"{count} customer calls counted")
    return start_ms, end_ms


def test_customer_latency_rises_under_concurrency_and_falls_without_the_db_mutex(demo) -> None:
    running, query = demo
    quiet = phase(demo, CONCURRENT, 1, 0)
    contended = phase(demo, CONCURRENT, CONCURRENT, CONCURRENT)
    requests.put(f"{running.frontend}/admin/faults", json={"db_conn_mutex_disabled": True}, timeout=10)
    fixed = phase(demo, CONCURRENT, CONCURRENT, 2 * CONCURRENT)
    p95 = {
        name: customer(query, "latencies", *window, quantile=0.95)
        for name, window in {"quiet": quiet, "contended": contended, "fixed": fixed}.items()
    }
    assert p95["contended"] > 2 * p95["quiet"], p95
    assert p95["fixed"] < p95["contended"] / 2, p95


def test_monitor_page_screenshot_for_the_readme(demo, page) -> None:
    """Writes ``monitor.png`` of the customer service after the load above, when ``UI_SCREENSHOTS`` is set."""
    target = screenshots_wanted()
    if target is None:
        pytest.skip("set UI_SCREENSHOTS=<folder> to write PNGs")
    _, query = demo
    page.goto(f"{query}/monitor?service=customer&lookback=5m")
    page.wait_for_selector("body[data-monitor-ready=true]", timeout=10_000)
    assert page.locator("#operations tbody tr").count() >= 1
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / "monitor.png"), full_page=True)
