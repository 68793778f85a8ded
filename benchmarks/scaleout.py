"""Stored spans per second with 1, 2 and 4 ingesters draining a partitioned span stream on a Redis Cluster.

Usage (from the repository root): .venv/bin/python -m benchmarks.scaleout [--batches 800] [--spans-per-batch 250]
       [--ingesters 1,2,4]

A private Redis Cluster (3 masters, 3 replicas of the machine's
``redis-server``) serves both the stream and the storage, as in
deploy/roles/cluster/.  For each run, N ingester processes are started from
deploy/roles/cluster/ingester.yaml as shipped (ports, URLs and ids by flag
and --set: a fresh stream and storage prefix per run) and left to join the
consumer groups; then the clock starts, the whole backlog is appended at
once (what collectors would have written: encoded span batches split by
trace id over the partitions, 10 spans per trace), and the clock stops when
every partition is empty with nothing pending.

Printed per run: stored spans/s, the CPU seconds the ingesters, the Redis
nodes and this generator used, and how busy the machine's cores were over the run, so a
saturated machine is not mistaken for a limit of the design; then the
ratios to one ingester.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from operator import methodcaller
from pathlib import Path

from backend.spans.otlp import to_batch
from backend.storage.redis.client import Client, connect, run, spread_keys
from backend.streams.partitions import CLUSTER_PARTITIONS, split
from backend.streams.span_stream import FIELD, encode
from tests.builders import SpanSpec, export_request
from tests.redis_cluster import LocalCluster, local_cluster
from tests.scaleout.roles import RoleProcess

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    ingesters: int
    spans_per_second: float
    ingester_cpu: float  # seconds
    redis_cpu: float  # seconds, the six nodes together
    generator_cpu: float  # seconds
    machine_busy: float  # 0..1 over all cores
    seconds: float


def backlog(batches: int, spans_per_batch: int, keys: list[str]) -> list[tuple[str, bytes]]:
    """(partition key, encoded entry) pairs, as the collectors' exporter would append them."""
    entries = []
    for _ in range(batches):
        specs: list[SpanSpec] = []
        while len(specs) < spans_per_batch:
            root = SpanSpec("frontend", "GET /dispatch", attributes={"http.method": "GET"})
            specs += [root, *(root.child("driver", f"op {i}") for i in range(9))]
        batch = to_batch(export_request(specs[:spans_per_batch])).batch
        entries += [(keys[k], encode(part)) for k, part in split(batch, len(keys)).items()]
    return entries


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def drained(client: Client, keys: list[str]) -> bool:
    lengths = run(client, [(key, methodcaller("xlen", key)) for key in keys])
    if any(lengths):
        return False
    return all(client.xpending(key, "ingesters")["pending"] == 0 for key in keys)


def run_once(cluster: LocalCluster, ingesters: int, args: argparse.Namespace, workdir: Path) -> Result:
    prefix = f"bench:{uuid.uuid4().hex[:8]}"
    stream = f"{prefix}:spans"
    settings = {
        "receivers.redis_streams.url": cluster.url,
        "receivers.redis_streams.stream": stream,
        "extensions.jaeger_storage.backends.main.redis.url": cluster.url,
        "extensions.jaeger_storage.backends.main.redis.prefix": f"{prefix}:traces",
    }
    client = connect(cluster.url, "benchmark")
    keys = spread_keys(stream, CLUSTER_PARTITIONS)
    entries = backlog(args.batches, args.spans_per_batch, keys)
    processes = [
        RoleProcess(
            "ingester", f"ingester-{ingesters}-{i}", {**settings, "receivers.redis_streams.consumer": f"i{i}"}, workdir
        )
        for i in range(ingesters)
    ]
    try:
        for process in processes:
            process.wait_ready()
        while any(len(client.xinfo_consumers(key, "ingesters")) < ingesters for key in keys):
            time.sleep(0.05)  # every ingester has joined every partition's group
        cpu_before = sum(process_cpu(p.popen.pid) for p in processes)
        redis_before = sum(process_cpu(p.pid) for p in cluster.processes.values())
        busy_before, total_before = machine_ticks()
        generator_before = time.process_time()
        start = time.perf_counter()
        for at in range(0, len(entries), 500):
            run(client, [(key, methodcaller("xadd", key, {FIELD: entry})) for key, entry in entries[at : at + 500]])
        generator_cpu = time.process_time() - generator_before
        while not drained(client, keys):
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        busy_after, total_after = machine_ticks()
        ingester_cpu = sum(process_cpu(p.popen.pid) for p in processes) - cpu_before
        redis_cpu = sum(process_cpu(p.pid) for p in cluster.processes.values()) - redis_before
    finally:
        for process in processes:
            process.stop()
        with contextlib.suppress(Exception):
            for key in client.scan_iter(match=f"{prefix}:*", count=1000):
                client.delete(key)
        client.close()
    busy = (busy_after - busy_before) / max(total_after - total_before, 1)
    spans = args.batches * args.spans_per_batch
    return Result(ingesters, spans / elapsed, ingester_cpu, redis_cpu, generator_cpu, busy, elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--batches", type=int, default=800)
    parser.add_argument("--spans-per-batch", type=int, default=250)
    parser.add_argument("--ingesters", default="1,2,4", help="comma-separated ingester counts")
    args = parser.parse_args()
    counts = [int(n) for n in args.ingesters.split(",")]
    with tempfile.TemporaryDirectory(prefix="scaleout-") as folder, local_cluster() as cluster:
        results = [run_once(cluster, n, args, Path(folder)) for n in counts]
    cores = os.cpu_count() or 1
    spans = args.batches * args.spans_per_batch
    print(f"{spans} spans, {CLUSTER_PARTITIONS} partitions, Redis Cluster 3+3, {cores} cores")
    print("ingesters  stored spans/s  seconds  ingester CPU s  Redis CPU s  generator CPU s  machine busy")
    for r in results:
        print(
            f"{r.ingesters:>9}  {r.spans_per_second:>14,.0f}  {r.seconds:>7.1f}  {r.ingester_cpu:>14.1f}"
            f"  {r.redis_cpu:>11.1f}  {r.generator_cpu:>15.2f}  {r.machine_busy:>12.0%}"
        )
    base = results[0].spans_per_second
    print("ratios to 1 ingester: " + ", ".join(f"{r.ingesters}: {r.spans_per_second / base:.2f}x" for r in results))


if __name__ == "__main__":
    main()
