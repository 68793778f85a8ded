"""The top-level failure scenario: a share of dispatches fail, and the trace says where and why."""

from __future__ import annotations

import json

import requests

from tests.hotrod.launcher import HotrodAll, find_trace, trace_id_of
from tests.support import wait_for


def tags(span: dict) -> dict:
    return {t["key"]: t["value"] for t in span["tags"]}


def test_injected_dispatch_failures_are_explained_by_the_route_spans(hotrod: HotrodAll, knobs_restored: dict) -> None:
    requests.put(f"{hotrod.frontend}/admin/faults", json={"dispatch_failure_rate": 1.0}, timeout=10).raise_for_status()
    reply = requests.get(f"{hotrod.frontend}/dispatch", params={"customer": 731}, timeout=30)
    assert reply.status_code == 503
    assert "injected fault" in reply.json()["error"]
    trace_id = trace_id_of(reply)

    def root_and_route_errors() -> tuple[dict, list[dict]] | None:
        trace = find_trace(hotrod.query, trace_id, {"frontend", "route"})
        processes = trace["processes"]
        roots = [s for s in trace["spans"] if not s["references"]]
        errors = [
            s for s in trace["spans"] if processes[s["processID"]]["serviceName"] == "route" and tags(s).get("error")
        ]
        return (roots[0], errors) if roots and errors else None  # spans arrive in batches: wait for both

    root, route_errors = wait_for(root_and_route_errors, what="the failed dispatch's root and route spans")
    assert all("road graph shard" in json.dumps(s["logs"]) for s in route_errors)  # the exception event
    assert tags(root).get("error") is True and tags(root)["http.status_code"] == 503


def test_a_share_of_dispatches_fail_not_all(hotrod: HotrodAll, knobs_restored: dict) -> None:
    requests.put(f"{hotrod.frontend}/admin/faults", json={"dispatch_failure_rate": 0.5}, timeout=10).raise_for_status()
    statuses = [
        requests.get(f"{hotrod.frontend}/dispatch", params={"customer": 123}, timeout=30).status_code for _ in range(16)
    ]
    assert set(statuses) == {200, 503}


def test_driver_timeouts_on_every_attempt_fail_the_dispatch(hotrod: HotrodAll, knobs_restored: dict) -> None:
    requests.put(f"{hotrod.frontend}/admin/faults", json={"driver_error_rate": 1.0}, timeout=10).raise_for_status()
    reply = requests.get(f"{hotrod.frontend}/dispatch", params={"customer": 567}, timeout=30)
    assert reply.status_code == 503
    assert "timed out 3 times" in reply.json()["error"]
