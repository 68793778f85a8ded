"""Fault schedules: parsing the inline and YAML forms, and applying steps on time to a real HTTP endpoint."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from loadgen.faults import FaultSchedule, FaultStep, ScheduleError
from tests.support import wait_for

ADMIN = "http://127.0.0.1:8080/admin/faults"


def test_inline_schedule_reads_times_knobs_and_end_values():
    schedule = FaultSchedule.parse(
        "40s: driver_error_rate=0; 10s: driver_error_rate=0.5, db_conn_mutex_disabled=true; end: driver_error_rate=0",
        ADMIN,
    )
    assert schedule.steps == [
        FaultStep(10.0, ADMIN, {"driver_error_rate": 0.5, "db_conn_mutex_disabled": True}),
        FaultStep(40.0, ADMIN, {"driver_error_rate": 0}),
    ]
    assert schedule.at_end == [FaultStep(float("inf"), ADMIN, {"driver_error_rate": 0})]


def test_yaml_schedule_allows_a_target_per_step(tmp_path: Path):
    path = tmp_path / "faults.yaml"
    path.write_text(
        "admin_url: http://frontend/admin/faults\n"
        "steps:\n"
        "  - {at: 1m30s, set: {extra_latency_ms: {route: 200}}}\n"
        "  - {at: 5s, admin_url: http://customer/admin/faults, set: {db_query_delay_ms: 900}}\n"
        "at_end: {db_query_delay_ms: 300}\n"
    )
    schedule = FaultSchedule.parse(str(path), ADMIN)
    assert schedule.steps == [
        FaultStep(5.0, "http://customer/admin/faults", {"db_query_delay_ms": 900}),
        FaultStep(90.0, "http://frontend/admin/faults", {"extra_latency_ms": {"route": 200}}),
    ]
    assert schedule.at_end[0].settings == {"db_query_delay_ms": 300}


@pytest.mark.parametrize(
    "spec, message",
    [
        ("driver_error_rate=0.5", "expected 'TIME: knob=value"),
        ("10s: driver_error_rate", "expected knob=value"),
        ("soon: driver_error_rate=1", "is not a time"),
        ("10s: ", "no knob=value"),
    ],
)
def test_malformed_inline_schedules_are_refused_with_the_step_named(spec: str, message: str):
    with pytest.raises(ScheduleError, match=message):
        FaultSchedule.parse(spec, ADMIN)


def test_a_yaml_step_without_settings_is_refused_with_its_location(tmp_path: Path):
    path = tmp_path / "faults.yaml"
    path.write_text("steps:\n  - {at: 5s}\n")
    with pytest.raises(ScheduleError, match=r"steps\[0\]"):
        FaultSchedule.parse(str(path), ADMIN)


class Recorder(BaseHTTPRequestHandler):
    received: list[tuple[float, dict]] = []

    def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Recorder.received.append((time.monotonic(), body))
        status = 400 if "bad_knob" in body else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def admin_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    Recorder.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/admin/faults"
    server.shutdown()
    server.server_close()


def test_steps_are_applied_in_order_at_their_times_and_end_values_after_stop(admin_server: str):
    spec = "0.2s: driver_error_rate=0.9; 0.4s: bad_knob=1; end: driver_error_rate=0"
    schedule = FaultSchedule.parse(spec, admin_server)
    reports: list[tuple[str, Exception | None]] = []
    stop = threading.Event()
    started = time.monotonic()
    runner = threading.Thread(target=schedule.run, args=(stop, lambda s, _t, e: reports.append((s.describe(), e))))
    runner.start()
    wait_for(lambda: len(Recorder.received) >= 2, timeout=5, what="both timed steps applied")
    stop.set()
    runner.join(timeout=5)
    bodies = [body for _, body in Recorder.received]
    assert bodies == [{"driver_error_rate": 0.9}, {"bad_knob": 1}, {"driver_error_rate": 0}]
    assert Recorder.received[0][0] - started >= 0.2
    assert Recorder.received[1][0] - started >= 0.4
    assert [name for name, _ in reports] == ["0.2s driver_error_rate=0.9", "0.4s bad_knob=1", "end driver_error_rate=0"]
    assert [error is None for _, error in reports] == [True, False, True]
