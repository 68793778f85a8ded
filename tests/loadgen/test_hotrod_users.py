"""The demo users against a real ``hotrod all``: dispatches counted, traces marked synthetic, faults switched."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.hotrod.launcher import HotrodAll, start_hotrod_all
from tests.loadgen.conftest import run_locust
from tests.support import wait_for


@pytest.fixture(scope="module")
def hotrod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HotrodAll, str]]:
    running = start_hotrod_all(tmp_path_factory.mktemp("hotrod-all"), "--delay-scale=0.1", "--skip-check")
    try:
        yield running, running.url("otlp-http")
    finally:
        running.stop()


def test_dispatches_are_counted_and_their_traces_start_in_the_load_generator(hotrod, tmp_path: Path):
    running, otlp = hotrod
    run = run_locust(
        tmp_path, ["hotrod_users.py"], "--host", running.frontend, "--think-time", "0.1-0.2",
        "--otel-endpoint", otlp, "--tags", "browse", "invalid", users=3, run_time="4s",
    )  # fmt: skip
    assert run.returncode == 0, run.output
    assert run.count("dispatch [browse]") > 0
    assert run.count("dispatch [invalid]") > 0
    assert run.total_failures() == 0

    def synthetic_traces() -> list[dict]:
        params = {"service": "loadgen", "tags": json.dumps({"user_agent.synthetic.type": "test"}), "limit": "50"}
        reply = requests.get(f"{running.query}/api/traces", params=params, timeout=10)
        traces = reply.json()["data"] if reply.status_code == 200 else []
        return [t for t in traces if "frontend" in {p["serviceName"] for p in t["processes"].values()}]

    traces = wait_for(synthetic_traces, timeout=30, what="synthetic dispatch traces through the frontend")
    root = next(s for s in traces[0]["spans"] if not s["references"])
    tags = {tag["key"]: tag["value"] for tag in root["tags"]}
    assert tags["user_agent.synthetic.type"] == "test"
    assert tags["loadgen.scenario"] in ("browse", "invalid")


def test_a_fault_schedule_switches_knobs_during_the_run_and_restores_them_at_the_end(hotrod, tmp_path: Path):
    running, _ = hotrod
    admin = f"{running.frontend}/admin/faults"
    run = run_locust(
        tmp_path, ["hotrod_users.py"], "--host", running.frontend, "--think-time", "0.1", "--no-client-spans",
        "--tags", "browse", "--faults", "0.5s: driver_error_rate=0.6; end: driver_error_rate=0.1",
        users=1, run_time="3s",
    )  # fmt: skip
    assert run.count("fault 0.5s driver_error_rate=0.6") == 1
    assert run.failures("fault 0.5s driver_error_rate=0.6") == 0
    assert requests.get(admin, timeout=10).json()["driver_error_rate"] == 0.1


def test_the_sampling_scenario_records_dispatch_and_stored_trace_rates_over_time(hotrod, tmp_path: Path):
    running, _ = hotrod
    curve = tmp_path / "stored-rate.csv"
    run = run_locust(
        tmp_path, ["hotrod_users.py"], "--host", running.frontend, "--dispatch-rate", "2", "--tags", "browse",
        "--no-client-spans", "--stored-rate-file", str(curve), "--stored-rate-query", running.query,
        "--stored-rate-interval", "1", users=2, run_time="5s",
    )  # fmt: skip
    assert run.returncode == 0, run.output
    with curve.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 3
    assert all(row["error"] == "" for row in rows)
    assert 2.0 <= max(float(row["dispatches_per_s"]) for row in rows) <= 6.0  # 2 users × 2/s
    assert max(float(row["stored_traces_per_s"]) for row in rows) > 0


def test_the_chosen_shape_drives_the_user_count(hotrod, tmp_path: Path):
    running, _ = hotrod
    run = run_locust(
        tmp_path, ["hotrod_users.py"], "--host", running.frontend, "--think-time", "0.5", "--no-client-spans",
        "--tags", "browse", "--shape", "step", users=4, run_time="4s",
    )  # fmt: skip
    assert run.returncode == 0, run.output
    counts = [int(row["User Count"]) for row in run.history]
    assert counts == sorted(counts)
    assert counts[0] < 4 and max(counts) == 4
