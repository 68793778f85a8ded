"""Stored spans per second with 1 and with 2 ingesters draining the same Redis stream into PostgreSQL.

Usage (from the repository root): .venv/bin/python -m benchmarks.scaleout [--batches 400] [--spans-per-batch 250]
       [--redis-url URL] [--postgres-url URL]

For each run, 1 or 2 ``hotrod backend`` ingester processes (redis_streams
receiver → storage exporter → PostgreSQL, a throw-away schema per run) are
started on a fresh, empty stream and left to join its consumer group; then
the clock starts, the same backlog is appended at once (what collectors
would have written: encoded span batches, 10 spans per trace), and the
clock stops when the stream is empty with nothing pending.
Printed: spans/s for each, and the ratio 2 ingesters / 1.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis
from sqlalchemy import NullPool, create_engine

from backend.spans.otlp import to_batch
from backend.storage.sql.store import SqlOptions, SqlStorage
from backend.streams.span_stream import FIELD, encode
from tests.builders import SpanSpec, export_request
from tests.support import ANY_PORT

HOTROD = str(Path(sys.executable).with_name("hotrod"))


def backlog(batches: int, spans_per_batch: int) -> list[bytes]:
    entries = []
    for _ in range(batches):
        specs: list[SpanSpec] = []
        while len(specs) < spans_per_batch:
            root = SpanSpec("frontend", "GET /dispatch", attributes={"http.method": "GET"})
            specs += [root, *(root.child("driver", f"op {i}") for i in range(9))]
        entries.append(encode(to_batch(export_request(specs[:spans_per_batch])).batch))
    return entries


def ingester_config(redis_url: str, stream: str, postgres_url: str, schema: str, name: str) -> dict:
    receiver = {"url": redis_url, "stream": stream, "consumer": name, "count": 4, "block": "100ms"}
    return {
        "service": {
            "extensions": ["jaeger_storage"],
            "pipelines": {"traces": {"receivers": ["redis_streams"], "exporters": ["jaeger_storage_exporter"]}},
            "telemetry": {"metrics": {"address": ANY_PORT}},
        },
        "extensions": {"jaeger_storage": {"backends": {"main": {"sql": {"url": postgres_url, "schema": schema}}}}},
        "receivers": {"redis_streams": receiver},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": "main"}},
    }


def drained(client: redis.Redis, stream: str) -> bool:
    return client.xlen(stream) == 0 and client.xpending(stream, "ingesters")["pending"] == 0


def run(ingesters: int, args: argparse.Namespace, workdir: Path) -> float:
    client = redis.Redis.from_url(args.redis_url)
    stream = f"bench:{uuid.uuid4().hex[:8]}:spans"
    schema = f"bench_scaleout_{uuid.uuid4().hex[:8]}"
    entries = backlog(args.batches, args.spans_per_batch)
    client.xgroup_create(stream, "ingesters", id="0", mkstream=True)
    processes = []
    try:
        SqlStorage(SqlOptions(url=args.postgres_url, schema=schema)).close()  # tables ready before anyone races
        for i in range(ingesters):
            config = workdir / f"ingester-{ingesters}-{i}.json"
            config.write_text(json.dumps(ingester_config(args.redis_url, stream, args.postgres_url, schema, f"i{i}")))
            log = (workdir / f"ingester-{ingesters}-{i}.log").open("ab")
            processes.append(subprocess.Popen([HOTROD, "backend", "--config", str(config)], stdout=log, stderr=log))
        while len(client.xinfo_consumers(stream, "ingesters")) < ingesters:
            if any(p.poll() is not None for p in processes):
                raise SystemExit(f"an ingester exited early; logs in {workdir}")
            time.sleep(0.05)
        start = time.perf_counter()
        with client.pipeline(transaction=False) as pipe:
            for entry in entries:
                pipe.xadd(stream, {FIELD: entry})
            pipe.execute()
        while not drained(client, stream):
            if any(p.poll() is not None for p in processes):
                raise SystemExit(f"an ingester exited early; logs in {workdir}")
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
        client.delete(stream)
        client.close()
        engine = create_engine(args.postgres_url, poolclass=NullPool)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()
    return args.batches * args.spans_per_batch / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--spans-per-batch", type=int, default=250)
    parser.add_argument("--redis-url", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scaleout-") as folder:
        rates = {n: run(n, args, Path(folder)) for n in (1, 2)}
    total = args.batches * args.spans_per_batch
    print(f"{total} spans in {args.batches} stream entries, PostgreSQL storage")
    for n, rate in rates.items():
        print(f"  {n} ingester(s): {rate:,.0f} stored spans/s")
    print(f"  ratio 2/1: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
