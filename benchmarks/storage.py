"""Storage plug-in speed with nothing around it: insert rate, bytes per span on disk, query latency.

Usage: .venv/bin/python benchmarks/storage.py [--spans 1000000] [--batch 500] [--url URL | --memory | --clickhouse]

Default: a fresh SQLite file in a temporary folder.  Spans are seeded
synthetic traces (loadgen.synthetic, 10 spans each, 5 services) decoded by
the real OTLP path before timing starts, so only ``writer().write`` is timed.
Traces are spread over six hours in chunks, so a one-hour search window holds
about a sixth of them.  Printed: spans/s for the whole load and for its last
tenth (a full store), bytes per span on disk (SQLite, embedded ClickHouse), and p50/p99 of
get_trace, find_traces (service + 1 h window, limit 20; also with an
operation, a tag and a minimum duration), a tag for each service in turn
(only one has spans carrying it) over one hour and over six, a tag that no
span has over all six hours and every service, and dependencies over one hour.  The sql
plug-in runs twice on the same spans, without and with its tag index, and
the two are printed side by side.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
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
    return f"p50 {p50 * 1000:.2f} / p99 {p99 * 1000:.2f} ms"


def timed(repeat: int, action: Callable[[int], object]) -> list[float]:
    samples = []
    for i in range(repeat):
        began = time.perf_counter()
        action(i)
        samples.append(time.perf_counter() - began)
    return samples


Results = dict[str, str]  # measurement -> its figure, in print order


def run(storage: Storage, data: list[SpanBatch], base_ns: int, counts: tuple[int, int], folder: Path | None) -> Results:
    """Load ``data`` into ``storage``, then time its queries; closes the storage."""
    results: Results = {}
    queries, six_hour_queries = counts  # runs of each query; of the six-hour no-match search
    total = sum(len(b) for b in data)
    writer = storage.writer()
    tail_from = len(data) - len(data) // 10
    began, cpu_began = time.perf_counter(), time.process_time()
    for index, batch in enumerate(data):
        if index == tail_from:
            tail_began = time.perf_counter()
        writer.write(batch)
    ended, cpu = time.perf_counter(), time.process_time() - cpu_began
    tail_spans = sum(len(b) for b in data[tail_from:])
    results["insert spans/s overall"] = f"{total / (ended - began):,.0f}"
    results["insert spans/s, last tenth"] = f"{tail_spans / (ended - tail_began):,.0f}"
    results["insert spans per CPU second"] = f"{total / cpu:,.0f}"

    reader = storage.reader()
    rand = random.Random(1)
    trace_ids = [rand.choice(rand.choice(data).spans).trace_id for _ in range(queries)]
    window: dict[str, Any] = {"start_min_ns": base_ns + SPREAD - HOUR, "start_max_ns": base_ns + SPREAD}
    six_hours: dict[str, Any] = {"start_min_ns": base_ns, "start_max_ns": base_ns + SPREAD}

    def search(**fields: Any) -> Callable[[int], object]:
        return lambda i: reader.find_traces(TraceQuery(service=service_name(i % 5), limit=20, **window, **fields))

    results["get_trace"] = percentiles(timed(queries, lambda i: reader.get_trace(trace_ids[i])))
    results["find_traces service+1h"] = percentiles(timed(queries, search()))
    operation = search(operation=operation_name(0, 1))
    results["find_traces +operation"] = percentiles(timed(queries, lambda i: operation(0)))
    tagged = search(tags={TIER_ATTRIBUTE: "gold"})
    results["find_traces +tag (root spans)"] = percentiles(timed(queries, lambda i: tagged(0)))
    # As hotrod bench asks: a random service, most of which have no root span, so no span with the tag.
    any_service = search(tags={TIER_ATTRIBUTE: "gold"})
    results["find_traces +tag, each service"] = percentiles(timed(queries, any_service))
    six_hour_tag = TraceQuery(tags={TIER_ATTRIBUTE: "gold"}, limit=20, **six_hours)
    results["tag, 6h, each service"] = percentiles(
        timed(queries, lambda i: reader.find_traces(replace(six_hour_tag, service=service_name(i % 5))))
    )
    no_match = TraceQuery(tags={TIER_ATTRIBUTE: "platinum"}, limit=20, **six_hours)
    samples = timed(six_hour_queries, lambda i: reader.find_traces(no_match))
    results[f"tag, no match, 6h, all services ({six_hour_queries} runs)"] = percentiles(samples)
    results["find_traces +min duration 400ms"] = percentiles(timed(queries, search(duration_min_ns=400_000_000)))
    end = base_ns + SPREAD
    dependencies = storage.dependency_reader()
    results["dependencies 1h (5 runs)"] = percentiles(timed(5, lambda i: dependencies.get_dependencies(end, HOUR)))
    storage.close()  # SQLite checkpoints and removes the WAL on the last close
    files = []
    if folder is not None:
        files = [*folder.glob("traces.db*"), *(f for f in (folder / "clickhouse").rglob("*") if f.is_file())]
    if files:
        size = sum(f.stat().st_size for f in files)
        results["disk bytes/span"] = f"{size / total:,.0f} ({size / 1e6:,.0f} MB)"
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--url", help="an SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--schema", default="", help="PostgreSQL schema to use (created, left in place)")
    parser.add_argument("--memory", action="store_true", help="benchmark the memory plug-in instead")
    parser.add_argument("--clickhouse", action="store_true", help="benchmark embedded ClickHouse (chDB) instead")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--six-hour-queries", type=int, default=10, help="runs of the no-match six-hour search (a scan takes seconds)"
    )
    args = parser.parse_args()

    base_ns = time.time_ns() - SPREAD
    print(f"generating {args.spans:,} spans in batches of {args.batch} ...", flush=True)
    data = batches(args.spans, args.batch, base_ns)
    total = sum(len(b) for b in data)

    columns: dict[str, Results] = {}
    if args.memory:
        columns["memory"] = run(
            create_storage("memory", {"max_traces": total}, "bench"),
            data,
            base_ns,
            (args.queries, args.six_hour_queries),
            None,
        )
    elif args.clickhouse:
        folder = Path(tempfile.mkdtemp(prefix="storage-bench-"))
        options = {"path": str(folder / "clickhouse"), "retention": 0}
        counts = (args.queries, args.six_hour_queries)
        columns["clickhouse"] = run(create_storage("clickhouse", options, "bench"), data, base_ns, counts, folder)
    else:
        # The sql plug-in twice on the same spans: without its tag index, then with the default one.
        for label, index in (("sql, no tag index", {"tags": False}), ("sql, tag index", {})):
            folder = Path(tempfile.mkdtemp(prefix="storage-bench-"))
            url = args.url or f"sqlite:///{folder / 'traces.db'}"
            schema = f"{args.schema}_{len(columns)}" if args.schema else ""
            options = {"url": url, "retention": 0, "index": index, **({"schema": schema} if schema else {})}
            print(f"{label}: loading ...", flush=True)
            columns[label] = run(
                create_storage("sql", options, "bench"), data, base_ns, (args.queries, args.six_hour_queries), folder
            )
    labels = list(columns)
    print(f"\n{total:,} spans; {'':<34}" + "".join(f"{label:>30}" for label in labels))
    for name in columns[labels[0]]:
        print(f"{name:<45}" + "".join(f"{columns[label].get(name, '-'):>30}" for label in labels))


if __name__ == "__main__":
    main()
