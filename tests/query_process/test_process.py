"""The query API in its own process, in real ``hotrod backend`` processes: it answers, follows, restarts, stops.

Each backend here runs the built-in config on a SQLite file (``--query-process auto``), so what is
proved is what ``hotrod backend`` and ``hotrod all`` ship.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
from pathlib import Path

import psutil
import pytest
import requests

from backend.query_process.supervisor import STOP_TIMEOUT_S
from tests.backend.clients import PROTOBUF, post_otlp, span_count
from tests.backend.conftest import ANY_PORTS, BackendProcess, Launcher, run_backend
from tests.builders import SpanSpec, export_request
from tests.support import wait_for

pytestmark = pytest.mark.timeout(180)


def health(backend: BackendProcess) -> requests.Response:
    return requests.get(backend.url("health", "/status"), timeout=5)


def query_pid(backend: BackendProcess) -> int:
    return int(health(backend).json()["query_process"]["pid"])


def answering(port: int, pids: list[int]) -> int | None:
    """Which of ``pids`` holds the server end of a request made to TCP ``port`` (both may hold the listening socket)."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        client.request("GET", "/api/services")  # keep-alive: the connection stays open after the answer
        client.getresponse().read()
        assert client.sock is not None
        client_port = client.sock.getsockname()[1]
        for pid in pids:
            for connection in psutil.Process(pid).net_connections(kind="tcp"):
                if connection.laddr.port == port and connection.raddr and connection.raddr.port == client_port:
                    return pid
        return None
    finally:
        client.close()


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def send_trace(backend: BackendProcess, service: str) -> str:
    root = SpanSpec(service, "GET /dispatch")
    specs = [root, root.child(service, "SQL SELECT")]
    response = post_otlp(backend.url("otlp-http", "/v1/traces"), export_request(specs).SerializeToString(), PROTOBUF)
    assert response.status_code == 200, response.text
    return root.trace_id.hex()


def sqlite_backend(start_backend: Launcher, tmp_path: Path, *args: str) -> BackendProcess:
    # spanmetrics flushed every second, so that the Monitor test need not wait 15 s for the query process to see it
    return start_backend(
        *("--storage", "sqlite", "--storage-url", f"sqlite:///{tmp_path / 'traces.db'}"),
        *("--set", "processors.spanmetrics.flush_interval=1s", *args),
    )


def test_the_query_api_answers_from_a_child_process_with_what_the_backend_ingested(
    start_backend: Launcher, tmp_path: Path
) -> None:
    backend = sqlite_backend(start_backend, tmp_path)
    child = query_pid(backend)
    assert backend.process is not None
    assert child != backend.process.pid
    assert child in [p.pid for p in psutil.Process(backend.process.pid).children()]
    assert answering(backend.ports["query"], [backend.process.pid, child]) == child
    assert answering(backend.ports["otlp-http"], [backend.process.pid, child]) == backend.process.pid

    trace_id = send_trace(backend, "orders")
    query = backend.url("query")
    wait_for(lambda: span_count(query, trace_id) == 2, timeout=30, what="the trace through the query process")
    assert "orders" in requests.get(f"{query}/api/services", timeout=5).json()["data"]

    # the Monitor page: the spanmetrics the ingesting process counts, as the query process reads them back
    def calls() -> list:
        response = requests.get(f"{query}/api/metrics/calls", params={"service": "orders"}, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()["metrics"]

    [series] = wait_for(calls, timeout=30, what="span metrics through the query process")
    assert any(point["gaugeValue"]["doubleValue"] > 0 for point in series["metricPoints"])


def test_a_killed_query_process_is_restarted_on_the_same_port_and_answers_again(
    start_backend: Launcher, tmp_path: Path
) -> None:
    backend = sqlite_backend(start_backend, tmp_path)
    trace_id = send_trace(backend, "billing")
    query = backend.url("query")
    wait_for(lambda: span_count(query, trace_id) == 2, timeout=30, what="the trace stored")
    first = query_pid(backend)

    os.kill(first, signal.SIGKILL)

    def reported() -> bool:
        response = health(backend)
        return response.status_code == 503 and "jaeger_query" in response.json().get("problems", {})

    wait_for(reported, timeout=10, interval=0.05, what="health to report the dead query process")

    def restarted() -> dict:
        details = health(backend).json()["query_process"]
        return details if details["pid"] != first and details["running"] else {}

    details = wait_for(restarted, timeout=60, what="the query process restarted")
    assert details["restarts"] == 1
    wait_for(lambda: health(backend).status_code == 200, timeout=30, what="healthy again")
    assert span_count(query, trace_id) == 2  # same address, same data
    assert answering(backend.ports["query"], [details["pid"]]) == details["pid"]
    assert "exited with status -9; restarting it" in backend.log


def test_stopping_the_backend_stops_the_query_process(start_backend: Launcher, tmp_path: Path) -> None:
    backend = sqlite_backend(start_backend, tmp_path)
    child = query_pid(backend)
    assert backend.stop() == 0
    assert gone(child)


def test_a_sigterm_to_the_backend_and_its_query_process_together_stops_both_promptly(
    start_backend: Launcher, tmp_path: Path
) -> None:
    """`timeout`, systemd's control-group stop and ``kill -- -PGID`` signal every process of the group at once.
    The watcher then reports the child's exit while shutdown is under way; shutdown must not wait out its
    join timeout on it (it did: every such stop took 30 s)."""
    backend = sqlite_backend(start_backend, tmp_path)
    child = query_pid(backend)
    assert backend.process is not None
    backend.process.send_signal(signal.SIGTERM)
    os.kill(child, signal.SIGTERM)
    assert backend.process.wait(timeout=STOP_TIMEOUT_S / 2) == 0
    assert gone(child)


def test_a_backend_killed_with_sigkill_takes_its_query_process_with_it(start_backend: Launcher, tmp_path: Path) -> None:
    backend = sqlite_backend(start_backend, tmp_path)
    child = query_pid(backend)
    assert backend.process is not None
    backend.process.kill()  # no shutdown code runs: the kernel's death signal must do it
    backend.process.wait()
    wait_for(lambda: gone(child), timeout=10, what="the orphaned query process to die")


def test_the_memory_storage_keeps_the_query_api_in_the_ingesting_process(start_backend: Launcher) -> None:
    backend = start_backend("--storage", "memory")
    assert "query_process" not in health(backend).json()
    assert backend.process is not None
    assert answering(backend.ports["query"], [backend.process.pid]) == backend.process.pid


def test_a_taken_query_port_stops_start_up_naming_the_flag(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        storage = ("--storage", "sqlite", "--storage-url", f"sqlite:///{tmp_path / 'traces.db'}")
        result = run_backend(*storage, *ANY_PORTS, "--query-port", str(taken), cwd=tmp_path, timeout=120)
    assert result.returncode == 1, result.stderr
    key = "built-in default config: extensions.jaeger_query.http.endpoint"
    assert f"cannot start: {key}: jaeger_query extension (query API and UI) cannot listen" in result.stderr
    assert "set it with --query-port" in result.stderr
    assert "Traceback" not in result.stderr
