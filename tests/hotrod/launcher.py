"""Run ``hotrod all`` as a child process on ports of its choosing, as a user would, and stop it with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.support import BACKEND_PORT_FLAGS, reported_backend_ports, reported_service_ports, wait_for

HOTROD = [str(Path(sys.executable).with_name("hotrod"))]
# every port 0: hotrod all reports what it bound (tests.support.reported_service_ports / reported_endpoints)
PORT_FLAGS = ("frontend", "customer", "driver", "route", *BACKEND_PORT_FLAGS)


@dataclass
class HotrodAll:
    process: subprocess.Popen[str]
    ports: dict[str, int]
    stderr_lines: list[str] = field(default_factory=list)

    @property
    def frontend(self) -> str:
        return f"http://127.0.0.1:{self.ports['frontend']}"

    @property
    def query(self) -> str:
        return f"http://127.0.0.1:{self.ports['query']}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def stderr_text(self) -> str:
        return "\n".join(self.stderr_lines)


def start_hotrod_all(data_dir: Path, *extra_args: str, env: dict[str, str] | None = None) -> HotrodAll:
    """Start and wait until it says ready (after its self-check, unless ``--skip-check`` is among the args)."""
    args = [*HOTROD, "all", "--data-dir", str(data_dir), *(f"--{name}-port=0" for name in PORT_FLAGS), *extra_args]
    child_env = {**os.environ, "OTEL_BSP_SCHEDULE_DELAY": "200", **(env or {})}
    child_env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    process = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=child_env, cwd=data_dir
    )
    running = HotrodAll(process, {})

    def collect() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            running.stderr_lines.append(line.rstrip("\n"))

    threading.Thread(target=collect, daemon=True).start()
    try:
        wait_for(
            lambda: (
                any(line.startswith("hotrod all: ready") for line in running.stderr_lines) or process.poll() is not None
            ),
            timeout=90,
            what="hotrod all to be ready",
        )
    except AssertionError:
        running.stop()
        raise
    if process.poll() is not None:
        raise AssertionError(f"hotrod all exited with {process.returncode}:\n{running.stderr_text()}")
    reported = running.stderr_text()
    running.ports = {**reported_service_ports(reported), **(reported_backend_ports(reported) or {})}
    return running


def find_trace(query: str, trace_id: str, services: set[str], timeout: float = 30.0) -> dict:
    """The trace from the query API once it has its root, spans from every one of ``services``, and stopped growing.

    Each service exports in its own batches, so a trace arrives in pieces; "stopped growing" means
    the same span count on two reads more than one export interval (200 ms in these tests) apart.
    """
    last_count = [-1]

    def complete() -> dict | None:
        reply = requests.get(f"{query}/api/traces/{trace_id}", timeout=10)
        if reply.status_code != 200:
            return None
        trace = reply.json()["data"][0]
        has_root = any(not span["references"] for span in trace["spans"])
        has_services = services <= {p["serviceName"] for p in trace["processes"].values()}
        stable = len(trace["spans"]) == last_count[0]
        last_count[0] = len(trace["spans"])
        return trace if has_root and has_services and stable else None

    return wait_for(
        complete, timeout=timeout, interval=0.3, what=f"trace {trace_id} with spans from {sorted(services)}"
    )


def trace_id_of(reply: requests.Response) -> str:
    """The trace id from the W3C ``traceresponse`` header."""
    return reply.headers["traceresponse"].split("-")[1]
