"""The scale-out topology as separate processes: 2 collectors → Redis stream → 2 ingesters → PostgreSQL ← 1 query.

Load goes through both collectors while one ingester is killed with SIGKILL;
every span a collector acknowledged must then be found through the query
process, and none twice.
"""

from __future__ import annotations

import functools
import json
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
from tests.storage.conftest import DATABASE_URL, drop_schema
from tests.support import ANY_PORT, reported_endpoints, wait_for

HOTROD = str(Path(sys.executable).with_name("hotrod"))
SPANS_PER_TRACE = 10


def role(receivers: dict, exporters: dict, storage: dict | None, query: bool = False) -> dict:
    """A backend config: the given pipeline, a health endpoint, and storage/query extensions when asked."""
    extensions = {"healthcheckv2": {"use_v2": True, "http": {"endpoint": ANY_PORT}}}
    if storage is not None:
        extensions["jaeger_storage"] = {"backends": {"main": {"sql": storage}}}
    if query:
        extensions["jaeger_query"] = {"storage": {"traces": "main"}, "http": {"endpoint": ANY_PORT}}
    return {
        "service": {
            "extensions": list(extensions),
            "pipelines": {"traces": {"receivers": list(receivers), "exporters": list(exporters)}},
            "telemetry": {"metrics": {"address": ANY_PORT}},
        },
        "extensions": extensions,
        "receivers": receivers,
        "exporters": exporters,
    }


class Process:
    def __init__(self, config: dict, workdir: Path, name: str) -> None:
        self.config = config
        path = workdir / f"{name}.yaml"
        path.write_text(json.dumps(config))  # JSON is YAML
        self.log = workdir / f"{name}.log"
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(
                [HOTROD, "backend", "--config", str(path)], cwd=workdir, stdout=log, stderr=log
            )
        self.endpoints: dict[str, str] = wait_for(self._reported, timeout=30, what=f"{name} ready (log: {self.log})")
        wait_for(self._healthy, timeout=30, what=f"{name} healthy (log: {self.log})")

    def _reported(self) -> dict[str, str] | None:
        if self.popen.poll() is not None:
            raise AssertionError(f"exited with {self.popen.returncode}: {self.log.read_text()}")
        return reported_endpoints(self.log.read_text())

    def _healthy(self) -> bool:
        return requests.get(f"http://{self.endpoints['healthcheckv2']}/status", timeout=2).status_code == 200


@pytest.fixture
def topology(tmp_path: Path) -> Iterator[dict]:
    stream = f"{redis_setup.unique_prefix()}:spans"
    schema = f"scaleout_{uuid.uuid4().hex[:10]}"
    storage = {"url": DATABASE_URL, "schema": schema, "pool_size": 2}
    redis_options = {"url": redis_setup.REDIS_URL, "stream": stream}
    started: list[Process] = []
    try:
        ingester = {"redis_streams": {**redis_options, "claim_idle": "1s", "claim_interval": "200ms", "block": "200ms"}}
        for i in range(2):
            receivers = {"redis_streams": {**ingester["redis_streams"], "consumer": f"ingester-{i}"}}
            config = role(receivers, {"jaeger_storage_exporter": {"trace_storage": "main"}}, storage)
            started.append(Process(config, tmp_path, f"ingester-{i}"))
        for i in range(2):
            config = role(
                {"otlp": {"protocols": {"http": {"endpoint": ANY_PORT}}}},
                {"redis_streams": {**redis_options, "max_len": 100_000}},
                None,
            )
            started.append(Process(config, tmp_path, f"collector-{i}"))
        # The query role: the config format wants a pipeline, so it has an OTLP receiver nobody uses.
        query = role(
            {"otlp": {"protocols": {"http": {"endpoint": ANY_PORT}}}},
            {"jaeger_storage_exporter": {"trace_storage": "main"}},
            storage,
            query=True,
        )
        started.append(Process(query, tmp_path, "query"))
        yield {"ingesters": started[:2], "collectors": started[2:4], "query": started[4], "stream": stream}
    finally:
        for process in started:
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in started:
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
    endpoint = collector.endpoints["otlp/http"]
    response = requests.post(
        f"http://{endpoint}/v1/traces",
        data=export_request(spans).SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
        timeout=10,
    )
    return root if response.status_code == 200 else None


def stored_span_ids(query: Process, trace_id: bytes) -> list[str]:
    endpoint = query.endpoints["jaeger_query"]
    response = requests.get(f"http://{endpoint}/api/traces/{trace_id.hex()}", timeout=10)
    return [span["spanID"] for span in response.json()["data"][0]["spans"]] if response.status_code == 200 else []


@pytest.mark.timeout(180)
def test_every_acknowledged_span_is_stored_once_when_an_ingester_is_killed_mid_load(topology: dict):
    acknowledged: list[SpanSpec] = []
    lock = threading.Lock()

    def load(collector: Process, traces: int) -> None:
        for _ in range(traces):
            root = send_trace(collector)
            if root is not None:
                with lock:
                    acknowledged.append(root)

    senders = [threading.Thread(target=load, args=(collector, 60)) for collector in topology["collectors"]]
    for sender in senders:
        sender.start()
    wait_for(lambda: len(acknowledged) >= 30, timeout=60, what="load under way")
    os.kill(topology["ingesters"][0].popen.pid, signal.SIGKILL)
    for sender in senders:
        sender.join()

    assert len(acknowledged) == 120
    query = topology["query"]
    for root in acknowledged:
        wait_for(
            functools.partial(_stored_whole, query, root.trace_id),
            timeout=30,
            what=f"trace {root.trace_id.hex()} stored",
        )
        span_ids = stored_span_ids(query, root.trace_id)
        assert len(span_ids) == len(set(span_ids)) == SPANS_PER_TRACE
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


def _stored_whole(query: Process, trace_id: bytes) -> bool:
    return len(stored_span_ids(query, trace_id)) >= SPANS_PER_TRACE
