"""The scale-out topology as separate processes, from the shipped deploy/roles/*.yaml, unchanged:
2 collectors → Redis stream → 2 ingesters → PostgreSQL ← 1 query.

Only what must differ on one host is overridden with flags: ports, the stream and database (so that
test runs never meet), consumer names, and the ingesters' claim timing (30 s in the file, 1 s here,
so that a dead ingester's entries are taken over within the test).  Each process runs in a folder of
its own, as on its own host (a collector's persistent queue is data/queue there).  Load goes through
both collectors while one of them, or one ingester, is killed with SIGKILL; every span a collector
acknowledged must then be found through the query process, and none twice.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests

from tests.builders import SpanSpec, export_request
from tests.storage import redis_setup
from tests.support import BACKEND_PORT_FLAGS, DATABASE_URL, drop_schema, port_of, reported_endpoints, wait_for

HOTROD = str(Path(sys.executable).with_name("hotrod"))
ROLES = Path(__file__).resolve().parents[2] / "deploy" / "roles"
SPANS_PER_TRACE = 10
TRACES_PER_SENDER = 60


class Process:
    """``hotrod backend --config deploy/roles/<role>.yaml`` with flags, in ``folder``; restartable in place.

    Its servers start on port 0 and it says which ports it got; a restart asks for the same ones.
    """

    def __init__(self, role: str, folder: Path, *flags: str) -> None:
        self.role = role
        self.folder = folder
        folder.mkdir()
        ports = {"collector": ("otlp-http", "otlp-grpc"), "query": ("query",)}.get(role, ())
        self.port_flags = (*ports, "health", "metrics")
        self.args = ["backend", "--config", str(ROLES / f"{role}.yaml"), *flags]
        self.endpoints: dict[str, str] = {}
        self.popen: subprocess.Popen[bytes] | None = None
        self.start({name: 0 for name in self.port_flags})

    def start(self, ports: dict[str, int]) -> None:
        port_args = [arg for name, port in ports.items() for arg in (f"--{name}-port", str(port))]
        log_path = self.folder / "log"
        log_path.write_bytes(b"")  # the ready line read below is this start's
        with log_path.open("ab") as log:
            self.popen = subprocess.Popen([HOTROD, *self.args, *port_args], cwd=self.folder, stdout=log, stderr=log)
        self.endpoints = wait_for(self._reported, timeout=30, what=f"{self.folder.name} ready (log: {log_path})")
        wait_for(self._healthy, timeout=30, what=f"{self.folder.name} healthy (log: {log_path})")

    def restart(self) -> None:
        self.start({name: port_of(self.endpoints[BACKEND_PORT_FLAGS[name]]) for name in self.port_flags})

    def _reported(self) -> dict[str, str] | None:
        assert self.popen is not None
        log = (self.folder / "log").read_text(errors="replace")
        if self.popen.poll() is not None:
            raise AssertionError(f"exited with {self.popen.returncode}: {log}")
        return reported_endpoints(log)

    def _healthy(self) -> bool:
        return requests.get(f"http://{self.endpoints['healthcheckv2']}/status", timeout=2).status_code == 200

    def kill(self) -> None:
        assert self.popen is not None
        os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def url(self, name: str, path: str) -> str:
        return f"http://{self.endpoints[BACKEND_PORT_FLAGS[name]]}{path}"


@pytest.fixture
def topology(tmp_path: Path) -> Iterator[dict]:
    stream = f"{redis_setup.unique_prefix()}:spans"
    schema = f"scaleout_{uuid.uuid4().hex[:10]}"
    storage = f"extensions.jaeger_storage.backends.main.sql={{url: '{DATABASE_URL}', schema: {schema}}}"
    started: list[Process] = []
    try:
        for i in range(2):
            started.append(
                Process(
                    "ingester",
                    tmp_path / f"ingester-{i}",
                    "--set",
                    storage,
                    "--set",
                    f"receivers.redis_streams.url={redis_setup.REDIS_URL}",
                    "--set",
                    f"receivers.redis_streams.stream={stream}",
                    "--set",
                    f"receivers.redis_streams.consumer=ingester-{i}",
                    "--set",
                    "receivers.redis_streams.claim_idle=1s",
                    "--set",
                    "receivers.redis_streams.claim_interval=200ms",
                )  # fmt: skip
            )
        for i in range(2):
            started.append(
                Process(
                    "collector",
                    tmp_path / f"collector-{i}",
                    "--set",
                    f"exporters.redis_streams.url={redis_setup.REDIS_URL}",
                    "--set",
                    f"exporters.redis_streams.stream={stream}",
                )  # fmt: skip
            )
        started.append(Process("query", tmp_path / "query", "--set", storage))
        yield {"ingesters": started[:2], "collectors": started[2:4], "query": started[4], "stream": stream}
    finally:
        for process in started:
            if process.popen is not None and process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in started:
            if process.popen is None:
                continue
            try:
                process.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()
        client = redis.Redis.from_url(redis_setup.REDIS_URL)
        client.delete(stream)
        client.close()
        drop_schema(schema)


def send_trace(collector: Process) -> SpanSpec | None:
    """One trace of ``SPANS_PER_TRACE`` spans; the root when the collector acknowledged it, else None."""
    root = SpanSpec("frontend", "GET /dispatch")
    spans = [root, *(root.child("driver", f"op {i}") for i in range(SPANS_PER_TRACE - 1))]
    try:
        response = requests.post(
            collector.url("otlp-http", "/v1/traces"),
            data=export_request(spans).SerializeToString(),
            headers={"Content-Type": "application/x-protobuf"},
            timeout=10,
        )
    except requests.ConnectionError:
        return None  # the collector is dead: nothing acknowledged
    return root if response.status_code == 200 else None


def stored_span_ids(query: Process, trace_id: bytes) -> list[str]:
    response = requests.get(query.url("query", f"/api/traces/{trace_id.hex()}"), timeout=10)
    return [span["spanID"] for span in response.json()["data"][0]["spans"]] if response.status_code == 200 else []


def run_load_killing(topology: dict, victim: Process, restart: bool) -> list[SpanSpec]:
    """Send from two threads (one per collector), SIGKILL ``victim`` mid-load; the acknowledged roots."""
    acknowledged: list[SpanSpec] = []
    lock = threading.Lock()

    def load(collector: Process) -> None:
        for _ in range(TRACES_PER_SENDER):
            root = send_trace(collector)
            if root is not None:
                with lock:
                    acknowledged.append(root)

    senders = [threading.Thread(target=load, args=(collector,)) for collector in topology["collectors"]]
    for sender in senders:
        sender.start()
    wait_for(lambda: len(acknowledged) >= 30, timeout=60, what="load under way")
    victim.kill()
    if restart:
        victim.restart()  # same folder and ports: a collector replays its persistent queue
    for sender in senders:
        sender.join()
    return acknowledged


def stored_whole(query: Process, trace_id: bytes) -> bool:
    return len(stored_span_ids(query, trace_id)) >= SPANS_PER_TRACE


def assert_stored_once(topology: dict, acknowledged: list[SpanSpec]) -> None:
    query: Process = topology["query"]
    for root in acknowledged:
        trace_id = root.trace_id
        wait_for(functools.partial(stored_whole, query, trace_id), timeout=30, what=f"trace {trace_id.hex()} stored")
        span_ids = stored_span_ids(query, trace_id)
        assert len(span_ids) == len(set(span_ids)) == SPANS_PER_TRACE


@pytest.mark.timeout(180)
def test_every_acknowledged_span_is_stored_once_when_an_ingester_is_killed_mid_load(topology: dict):
    acknowledged = run_load_killing(topology, topology["ingesters"][0], restart=False)

    assert len(acknowledged) == 2 * TRACES_PER_SENDER  # the collectors never noticed
    assert_stored_once(topology, acknowledged)
    client = redis.Redis.from_url(redis_setup.REDIS_URL)
    try:
        # The dead one's entries are taken over once idle for claim_idle: its last batch may be
        # stored (written before the kill) yet still pending until a survivor claims and acks it.
        wait_for(
            lambda: client.xpending(topology["stream"], "ingesters")["pending"] == 0,
            timeout=30,
            what="the killed ingester's pending entries to be claimed and acknowledged",
        )
    finally:
        client.close()


@pytest.mark.timeout(180)
def test_every_acknowledged_span_is_stored_once_when_a_collector_is_killed_mid_load_and_restarted(topology: dict):
    acknowledged = run_load_killing(topology, topology["collectors"][0], restart=True)

    assert len(acknowledged) >= TRACES_PER_SENDER  # the survivor's all, and the victim's before and after
    assert_stored_once(topology, acknowledged)
