"""Storage plug-in speed with nothing around it: insert rate, bytes per span on disk, query latency.

Usage: .venv/bin/python benchmarks/storage.py [--spans 1000000] [--batch 500] [--url URL | --memory | --clickhouse]

Default: a fresh SQLite file in a temporary folder.  Spans are seeded
synthetic traces (loadgen.synthetic, 10 spans each, 5 services) decoded by
the real OTLP path before timing starts, so only ``writer().write`` is timed.
Traces are spread over six hours in chunks, so a one-hour search window holds
about a sixth of them.  Printed: spans/s for the whole load and for its last
tenth (a full store), bytes per span on disk (SQLite, embedded ClickHouse), and p50/p99 of
get_trace, find_traces (service + 1 h window, limit 20; also with an
operation, a tag and a minimum duration) and dependencies over one hour.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backend.spans.model import SpanBatch
from backend.spans.otlp import to_batch
from backend.storage.api import Storage, TraceQuery
from backend.storage.factory import create_storage
from loadgen.synthetic import TIER_ATTRIBUTE, SyntheticTraces, TraceShape, operation_name, service_name

HOUR = 3_600_000_000_000
SPREAD = 6 * HOUR
CHUNKS = 24


def batches(spans: int, batch: int, base_ns: int) -> list[SpanBatch]:
    """Decoded batches of ``batch`` spans, ``spans`` in all, chunk by chunk across SPREAD."""
    shape = TraceShape(traces_per_request=max(batch // 10, 1))
    requests = max(spans // shape.spans_per_request, 1)
    per_chunk = max(requests // CHUNKS, 1)
    result = []
    for chunk in range(0, requests, per_chunk):
        traces = SyntheticTraces(shape, seed=7, base_time_ns=base_ns + chunk * SPREAD // requests, stream=chunk)
        for _ in range(min(per_chunk, requests - chunk)):
            result.append(to_batch(traces.next_request()[0]).batch)
    return result


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {p50 * 1000:7.2f} ms   p99 {p99 * 1000:7.2f} ms"


def timed(repeat: int, action: Callable[[int], object]) -> list[float]:
    samples = []
    for i in range(repeat):
        began = time.perf_counter()
        action(i)
        samples.append(time.perf_counter() - began)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--url", help="an SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--schema", default="", help="PostgreSQL schema to use (created, left in place)")
    parser.add_argument("--memory", action="store_true", help="benchmark the memory plug-in instead")
    parser.add_argument("--clickhouse", action="store_true", help="benchmark embedded ClickHouse (chDB) instead")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="storage-bench-"))
    base_ns = time.time_ns() - SPREAD
    print(f"generating {args.spans:,} spans in batches of {args.batch} ...", flush=True)
    data = batches(args.spans, args.batch, base_ns)
    total = sum(len(b) for b in data)

    if args.memory:
        storage: Storage = create_storage("memory", {"max_traces": total}, "bench")
    elif args.clickhouse:
        storage = create_storage("clickhouse", {"path": str(folder / "clickhouse"), "retention": 0}, "bench")
    else:
        url = args.url or f"sqlite:///{folder / 'traces.db'}"
        options = {"url": url, "retention": 0, **({"schema": args.schema} if args.schema else {})}
        storage = create_storage("sql", options, "bench")
    writer = storage.writer()
    tail_from = len(data) - len(data) // 10
    began, cpu_began = time.perf_counter(), time.process_time()
    for index, batch in enumerate(data):
        if index == tail_from:
            tail_began = time.perf_counter()
        writer.write(batch)
    ended, cpu = time.perf_counter(), time.process_time() - cpu_began
    tail_spans = sum(len(b) for b in data[tail_from:])
    print(f"insert: {total / (ended - began):10,.0f} spans/s overall, {total:,} spans in {ended - began:.1f} s")
    print(f"insert: {tail_spans / (ended - tail_began):10,.0f} spans/s over the last tenth (store nearly full)")
    print(f"insert: {total / cpu:10,.0f} spans per CPU second of this process (steadier on a busy machine)")

    reader = storage.reader()
    rand = random.Random(1)
    trace_ids = [rand.choice(rand.choice(data).spans).trace_id for _ in range(args.queries)]
    window: dict[str, Any] = {"start_min_ns": base_ns + SPREAD - HOUR, "start_max_ns": base_ns + SPREAD}
    del data

    def search(**fields: Any) -> Callable[[int], object]:
        return lambda i: reader.find_traces(TraceQuery(service=service_name(i % 5), limit=20, **window, **fields))

    fetch = timed(args.queries, lambda i: reader.get_trace(trace_ids[i]))
    print(f"get_trace                          {percentiles(fetch)}")
    print(f"find_traces service+1h             {percentiles(timed(args.queries, search()))}")
    operation = search(operation=operation_name(0, 1))
    print(f"find_traces +operation             {percentiles(timed(args.queries, lambda i: operation(0)))}")
    tagged = search(tags={TIER_ATTRIBUTE: "gold"})
    print(f"find_traces +tag (root spans)      {percentiles(timed(args.queries, lambda i: tagged(0)))}")
    slow = search(duration_min_ns=400_000_000)
    print(f"find_traces +min duration 400ms    {percentiles(timed(args.queries, slow))}")
    end = base_ns + SPREAD
    dependencies = storage.dependency_reader()
    samples = timed(5, lambda i: dependencies.get_dependencies(end, HOUR))
    print(f"dependencies 1h (5 runs)           {percentiles(samples)}")
    storage.close()  # SQLite checkpoints and removes the WAL on the last close
    files = [*folder.glob("traces.db*"), *(f for f in (folder / "clickhouse").rglob("*") if f.is_file())]
    if files:
        size = sum(f.stat().st_size for f in files)
        print(f"disk:   {size / total:10,.0f} bytes/span ({size / 1e6:,.0f} MB)")


if __name__ == "__main__":
    main()
