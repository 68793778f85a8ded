"""End-to-end ingest speed of the backend, beside the speed of merely decoding the same payloads.

Usage (from the repository root): .venv/bin/python -m benchmarks.ingest [--spans 200000] [--query-spans 1000000]
       [--storages memory,sqlite,sqlite-memq,sqlite-serial,postgres,clickhouse,clickhouse-glibc] [--clients 8]
       [--postgres-url URL]

For each storage, one ``hotrod backend`` process (pipeline otlp → jaeger_storage_exporter with
its sending queue, extensions file_storage, storage, query, health) is started on free ports.
The queue is persistent (on disk, synced, before each answer), as ``hotrod backend`` runs by
default, except for ``sqlite-memq``: SQLite with the queue in memory, so that the cost of the
persistent queue shows side by side in one run.  ``sqlite-serial`` is SQLite with the persistent
queue and OTLP/HTTP requests handled one at a time, each with its own fdatasync (``http.threads:
1``), as before group commit; by default the receiver decodes on its event loop while earlier
requests wait for their sync off it, and their batches share the next one (group commit,
backend/extensions/file_storage/segments.py, backend/core/deferred.py);
``clickhouse-glibc`` is ClickHouse with glibc's allocator as it comes (the backend's own settings,
``backend.core.process_tuning.tune_allocator``, skipped), so what they save shows beside ``clickhouse``,
with each backend's minor page faults per span;
seeded synthetic traces (loadgen.synthetic: 10 spans each, 50 traces = 500
spans per request) are POSTed as OTLP/HTTP protobuf by ``--clients`` threads,
retrying on 429/503; the clock stops when the backend's own metrics say every
span is stored, and a sample of traces is then read back in full through the
query API.  "tail" is the part of that clock after the last request was
answered: spans still queued for storage (with a batch ``timeout`` set, a
partial batch waits that long too).  The reference, measured in the same run on the same payloads:
parse each request and touch every span field and every attribute once from
Python ("decode-and-walk").  Also printed: bytes per span on disk (SQLite file
with its WAL; PostgreSQL relation sizes), and get-trace / find-traces (service,
last hour, limit 20) p50/p99 through the query API with ``--query-spans`` in
SQLite.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from loadgen.bench.bulk import send_all
from loadgen.bench.reference import decode_and_walk
from loadgen.synthetic import SyntheticTraces, TraceShape, service_name
from tests.support import reported_backend_ports, wait_for

HOTROD = str(Path(sys.executable).with_name("hotrod"))
SHAPE = TraceShape(spans_per_trace=10, traces_per_request=50)
# every port on 0, the legacy receivers' too: a fixed port held by another process would stop the run
PORT_FLAGS = ("otlp-grpc", "otlp-http", "query", "health", "metrics", "jaeger-compact", "jaeger-binary", "jaeger-http",
              "jaeger-grpc", "zipkin")  # fmt: skip
# the path measured: receivers -> storage exporter (its sending queue), with the queue's file_storage and the
# storage, query and health extensions (the default config adds processors and extensions, e.g. sampling on a
# fixed port)
CORE = [
    "--set", "service.extensions=[file_storage, jaeger_storage, jaeger_query, healthcheckv2]",
    "--set", "service.pipelines.traces.processors=[]",
]  # fmt: skip
# glibc's allocator as it comes: a variable of its own in the environment makes the backend keep its hands off
ENVIRONMENTS = {"clickhouse-glibc": {"GLIBC_TUNABLES": ""}}
MEMORY_QUEUE = ["--set", "exporters.jaeger_storage_exporter.sending_queue.storage=''"]
ONE_AT_A_TIME = ["--set", "receivers.otlp.protocols.http.threads=1"]


def payloads(spans: int, seed: int, stream: int = 0) -> tuple[list[bytes], list[tuple[str, int]]]:
    generator = SyntheticTraces(SHAPE, seed=seed, base_time_ns=time.time_ns() - 1_800_000_000_000, stream=stream)
    bodies = []
    for _ in range(max(1, spans // SHAPE.spans_per_request)):
        request, _ = generator.next_request()
        bodies.append(request.SerializeToString())
    return bodies, list(generator.produced.items())


class Backend:
    """One ``hotrod backend`` process on ports it picks itself (it reports them once ready)."""

    def __init__(self, workdir: Path, args: list[str], env: dict[str, str] | None = None) -> None:
        self.log = (workdir / "backend.log").open("ab")
        port_args = [arg for name in PORT_FLAGS for arg in (f"--{name}-port", "0")]
        self.process = subprocess.Popen(
            [HOTROD, "backend", "--log-level", "warning", *port_args, *CORE, *args],
            cwd=workdir,
            stdout=self.log,
            stderr=self.log,
            env={**os.environ, **(env or {})},
        )
        self.ports: dict[str, int] = wait_for(self._reported, timeout=60, what="backend ready")
        wait_for(lambda: requests.get(self.url("health", "/"), timeout=2).ok, timeout=60, what="backend health")

    def _reported(self) -> dict[str, int] | None:
        if self.process.poll() is not None:
            tail = Path(self.log.name).read_text(errors="replace")[-2000:]
            raise SystemExit(f"the backend exited with {self.process.returncode}:\n{tail}")
        return reported_backend_ports(Path(self.log.name).read_text(errors="replace"))

    def url(self, name: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    def metric(self, name: str) -> float:
        families = text_string_to_metric_families(requests.get(self.url("metrics", "/metrics"), timeout=5).text)
        return sum(s.value for f in families for s in f.samples if s.name == name)

    def stored(self) -> float:
        return self.metric("otelcol_exporter_sent_spans_total")

    def _stat(self) -> list[str]:
        return Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()

    def cpu_seconds(self) -> float:
        """User + system CPU time of the backend process so far (Linux /proc)."""
        fields = self._stat()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def minor_faults(self) -> int:
        """Pages the kernel had to map in (and zero) for the process so far: fresh memory, not reused."""
        return int(self._stat()[7])

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)
        self.log.close()


def check_complete(backend: Backend, traces: list[tuple[str, int]], sample: int = 50) -> None:
    for trace_id, spans in random.Random(1).sample(traces, min(sample, len(traces))) + traces[-1:]:
        found = requests.get(backend.url("query", f"/api/traces/{trace_id}"), timeout=10).json()["data"][0]
        assert len(found["spans"]) == spans, f"trace {trace_id}: {len(found['spans'])} of {spans} spans"


@dataclass
class IngestResult:
    storage: str
    walk_per_s: float
    spans_per_s: float
    refusals: int
    bytes_per_span: float | None
    cpu_us_per_span: float  # the backend process's CPU time (user + system) per span: robust to a busy machine
    tail_ms: float  # from the last answered request until every span was stored
    syncs_per_request: float  # the persistent queue's data syncs per request (0 with the queue in memory)
    faults_per_span: float  # minor page faults of the backend process per span


def ingest(name: str, args: Callable[[Path], list[str]], bodies, traces, clients: int, disk) -> IngestResult:
    # measured right before each run: other load on the machine then weighs on both alike
    walk = max(decode_and_walk(bodies) for _ in range(2))
    with tempfile.TemporaryDirectory(prefix=f"ingest-{name}-") as folder:
        backend = Backend(Path(folder), [*args(Path(folder))], ENVIRONMENTS.get(name))
        try:
            total = sum(spans for _, spans in traces)
            started, cpu_before, faults_before = time.perf_counter(), backend.cpu_seconds(), backend.minor_faults()
            refusals = send_all(backend.url("otlp-http", "/v1/traces"), bodies, clients)
            acknowledged = time.perf_counter()
            wait_for(lambda: backend.stored() >= total, timeout=600, interval=0.01, what=f"{total} spans stored")
            stored = time.perf_counter()
            elapsed = stored - started
            cpu = backend.cpu_seconds() - cpu_before
            faults = backend.minor_faults() - faults_before
            syncs = backend.metric("otelcol_exporter_queue_disk_syncs")
            check_complete(backend, traces)
        finally:
            backend.stop()
        size = disk(Path(folder))  # after the stop, so SQLite's WAL is checkpointed into the file
    return IngestResult(
        name, walk, total / elapsed, refusals, size / total if size else None, cpu / total * 1e6,
        (stored - acknowledged) * 1000, syncs / len(bodies), faults / total,
    )  # fmt: skip


def sqlite_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.glob("traces.db*"))


def clickhouse_args(folder: Path) -> list[str]:
    path = f"extensions.jaeger_storage.backends.main.clickhouse.path={folder}/clickhouse"
    return ["--storage", "clickhouse", "--set", path]


def clickhouse_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in (folder / "clickhouse").rglob("*") if path.is_file())


def postgres_size(url: str, schema: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        size = connection.execute(
            text(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s AND c.relkind = 'r'"
            ),
            {"s": schema},
        ).scalar()
    engine.dispose()
    return int(size or 0)


def drop_schema(url: str, schema: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        # An identifier cannot be a bound parameter: quote it the dialect's way instead.
        quoted = connection.dialect.identifier_preparer.quote_identifier(schema)
        connection.execute(text("DROP SCHEMA IF EXISTS " + quoted + " CASCADE"))
    engine.dispose()


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def query_latency(spans: int, clients: int, seed: int) -> dict[str, tuple[float, float]]:
    """Load ``spans`` into SQLite through the backend, then time the query API."""
    with tempfile.TemporaryDirectory(prefix="ingest-query-") as folder:
        backend = Backend(Path(folder), ["--storage", "sqlite", "--storage-url", f"sqlite:///{folder}/traces.db"])
        try:
            traces: list[tuple[str, int]] = []
            chunk = 100_000
            for stream in range((spans + chunk - 1) // chunk):
                bodies, produced = payloads(min(chunk, spans - stream * chunk), seed, stream=stream + 1)
                send_all(backend.url("otlp-http", "/v1/traces"), bodies, clients)
                traces.extend(produced)
            total = sum(n for _, n in traces)
            wait_for(lambda: backend.stored() >= total, timeout=1200, what=f"{total} spans stored")
            session = requests.Session()
            ids = [trace_id for trace_id, _ in random.Random(seed).sample(traces, min(500, len(traces)))]
            get_trace = []
            for trace_id in ids:
                begun = time.perf_counter()
                assert session.get(backend.url("query", f"/api/traces/{trace_id}"), timeout=10).ok
                get_trace.append(time.perf_counter() - begun)
            now_us = time.time_ns() // 1000
            find = []
            for i in range(200):
                params: dict[str, Any] = {
                    "service": service_name(i % SHAPE.services),
                    "start": now_us - 3_600_000_000,
                    "end": now_us,
                    "limit": 20,
                }
                begun = time.perf_counter()
                response = session.get(backend.url("query", "/api/traces"), params=params, timeout=30)
                find.append(time.perf_counter() - begun)
                assert response.ok and len(response.json()["data"]) == 20, response.text[:200]
        finally:
            backend.stop()
    return {"get-trace": percentiles(get_trace), "find-traces": percentiles(find)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=200_000, help="spans per storage for the ingest rate")
    parser.add_argument(
        "--query-spans", type=int, default=1_000_000, help="spans in SQLite for query latency (0: skip)"
    )
    parser.add_argument("--storages", default="memory,sqlite,sqlite-memq,postgres")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    )
    options = parser.parse_args()

    bodies, traces = payloads(options.spans, options.seed)
    print(f"payloads: {len(bodies)} requests x {SHAPE.spans_per_request} spans, {sum(map(len, bodies)):,} bytes")

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    postgres = f"extensions.jaeger_storage.backends.main={{sql: {{url: '{options.postgres_url}', schema: {schema}}}}}"
    setups = {
        "memory": (lambda _: ["--set", "extensions.jaeger_storage.backends.main={memory: {max_traces: 10000000}}"],
                   lambda _: 0),
        "sqlite": (lambda f: ["--storage", "sqlite", "--storage-url", f"sqlite:///{f}/traces.db"], sqlite_size),
        "sqlite-memq": (lambda f: ["--storage", "sqlite", "--storage-url", f"sqlite:///{f}/traces.db", *MEMORY_QUEUE],
                        sqlite_size),
        "sqlite-serial": (lambda f: ["--storage", "sqlite", "--storage-url", f"sqlite:///{f}/traces.db",
                                     *ONE_AT_A_TIME], sqlite_size),
        "clickhouse": (clickhouse_args, clickhouse_size),
        "clickhouse-glibc": (clickhouse_args, clickhouse_size),
        "postgres": (lambda _: ["--storage", "postgres", "--storage-url", options.postgres_url, "--set", postgres],
                     lambda _: postgres_size(options.postgres_url, schema)),
    }  # fmt: skip
    aims = {"memory": 1.0, "sqlite": 0.35, "sqlite-memq": 0.4, "sqlite-serial": 0.35, "postgres": 0.2,
            "clickhouse": 0.5, "clickhouse-glibc": 0.5}  # fmt: skip
    results = []
    try:
        for name in options.storages.split(","):
            args, disk = setups[name]
            results.append(ingest(name, args, bodies, traces, options.clients, disk))
    finally:
        if "postgres" in options.storages:
            drop_schema(options.postgres_url, schema)

    print("\nwalk: parse and touch every span and attribute once, CPU clock (best of 2, just before each run)")
    print("x walk: ingest spans/s (wall clock, until stored) over walk spans/s (CPU clock)")
    print("x walk CPU: walk CPU per span over the backend process's CPU per span (steady on a busy machine)")
    print("tail: from the last answered request until every span was stored")
    print("syncs/req: the persistent queue's data syncs per request (below 1: requests shared syncs)")
    print("sqlite-memq: SQLite with the sending queue in memory (other rows: persistent, synced before each answer)")
    print("sqlite-serial: persistent queue, requests handled one at a time (one sync each: before group commit)")
    print("clickhouse-glibc: ClickHouse with glibc's allocator defaults (backend.core.process_tuning skipped)")
    print("faults/span: the backend's minor page faults per span (memory mapped in fresh instead of reused)")
    header = f"{'storage':<17}{'walk/s':>10}{'ingest/s':>10}{'x walk':>8}{'aim':>6}{'refused':>9}{'B/span':>8}"
    print(f"{header}{'CPU us/span':>13}{'x walk CPU':>12}{'tail ms':>9}{'syncs/req':>11}{'faults/span':>13}")
    for r in results:
        size = f"{r.bytes_per_span:.0f}" if r.bytes_per_span else "-"
        print(
            f"{r.storage:<17}{r.walk_per_s:>10,.0f}{r.spans_per_s:>10,.0f}{r.spans_per_s / r.walk_per_s:>8.2f}"
            f"{aims[r.storage]:>6}{r.refusals:>9}{size:>8}{r.cpu_us_per_span:>13.2f}"
            f"{1e6 / r.walk_per_s / r.cpu_us_per_span:>12.2f}{r.tail_ms:>9.0f}{r.syncs_per_request:>11.2f}"
            f"{r.faults_per_span:>13.2f}"
        )
    if options.query_spans:
        latency = query_latency(options.query_spans, options.clients, options.seed)
        print(f"\nquery API over {options.query_spans:,} spans in SQLite (ms): p50, p99 (aims p99 < 10 / 50)")
        for name, (p50, p99) in latency.items():
            print(f"  {name:<12}{p50:>8.2f}{p99:>8.2f}")


if __name__ == "__main__":
    main()
