"""HotROD's headline bug, measured: concurrent dispatches queue for the customer database's one connection."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.hotrod.conftest import FAST
from tests.hotrod.launcher import HotrodAll, find_trace, start_hotrod_all, trace_id_of

CONCURRENT = 6
# the database is made the bottleneck: a slow query, and enough route workers that routes never queue
LOAD_KNOBS = {"db_query_delay_ms": 500, "route_worker_pool_size": 30}


def dispatch_batch(frontend: str, batch: str) -> tuple[float, list[requests.Response]]:
    """``CONCURRENT`` dispatches at once; returns the wall time of the whole batch and the replies."""

    def one(index: int) -> requests.Response:
        headers = {"baggage": f"session={batch},request={batch}-{index}"}
        return requests.get(f"{frontend}/dispatch", params={"customer": 123}, headers=headers, timeout=60)

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENT) as pool:
        replies = list(pool.map(one, range(CONCURRENT)))
    assert [r.status_code for r in replies] == [200] * CONCURRENT, [r.text for r in replies]
    return time.perf_counter() - started, replies


def waits_in(trace: dict) -> list[dict]:
    return [s for s in trace["spans"] if s["operationName"] == "wait for db connection"]


@pytest.fixture
def loaded(hotrod: HotrodAll, knobs_restored: dict) -> HotrodAll:
    requests.put(f"{hotrod.frontend}/admin/faults", json=LOAD_KNOBS, timeout=10).raise_for_status()
    return hotrod


def test_concurrent_dispatches_wait_for_the_connection_and_name_who_they_waited_for(loaded: HotrodAll) -> None:
    _, replies = dispatch_batch(loaded.frontend, "queue")
    traces = [find_trace(loaded.query, trace_id_of(r), {"customer"}) for r in replies]
    waits = [span for trace in traces for span in waits_in(trace)]
    assert len(waits) >= CONCURRENT - 1  # all but the first in line waited
    batch = {f"queue-{i}" for i in range(CONCURRENT)}
    for span in waits:
        blockers = json.loads(next(t["value"] for t in span["tags"] if t["key"] == "hotrod.blockers"))  # arrays: JSON
        assert blockers and set(blockers) <= batch
        own = next(t["value"] for t in span["tags"] if t["key"] == "request")
        assert own not in blockers


def test_disabling_the_mutex_at_runtime_makes_the_same_load_faster(loaded: HotrodAll) -> None:
    contended, _ = dispatch_batch(loaded.frontend, "before")
    requests.put(
        f"{loaded.frontend}/admin/faults", json={"db_conn_mutex_disabled": True}, timeout=10
    ).raise_for_status()
    fixed, replies = dispatch_batch(loaded.frontend, "after")
    assert fixed < contended
    traces = [find_trace(loaded.query, trace_id_of(r), {"customer"}) for r in replies]
    assert not [span for trace in traces for span in waits_in(trace)]


def test_the_fix_flag_and_a_bigger_pool_make_the_same_load_faster(loaded: HotrodAll, tmp_path: Path) -> None:
    contended, _ = dispatch_batch(loaded.frontend, "flagless")
    fixed_process = start_hotrod_all(
        tmp_path, *FAST, "--skip-check", "--fix-disable-db-conn-mutex", "--db-pool-size=8",
        "--fix-db-query-delay=500ms", "--fix-route-worker-pool-size=30",
    )  # fmt: skip
    try:
        fixed, _ = dispatch_batch(fixed_process.frontend, "flagged")
    finally:
        assert fixed_process.stop() == 0
    assert fixed < contended
