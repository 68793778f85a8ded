"""Storage plug-in speed with nothing around it: insert rate, bytes per span on disk, query latency.

Usage: .venv/bin/python -m benchmarks.storage [--spans 1000000] [--batch 500] [--columns no-index,index]
       [--scan-queries N] [--url URL | --memory | --clickhouse]

Default: the sql plug-in on a fresh SQLite file in a temporary folder, twice
on the same spans, without and with its tag index, printed side by side.
Spans are seeded synthetic traces (loadgen.synthetic, 10 spans each, 5
services over six hours) made and decoded ``--ahead`` spans at a time while
loading, and written to every column in turn (``benchmarks.storage_load``, which also says
exactly what is timed: each ``writer().write`` call alone).  Progress is printed
every ten seconds.  Printed: spans/s for the whole load and for its
last tenth (a full store), per CPU second, bytes per span on disk (SQLite,
embedded ClickHouse), and p50/p99 of get_trace, find_traces (service + 1 h
window, limit 20; also with an operation, a tag and a minimum duration), a
tag for each service in turn (only one has spans carrying it) over one hour
and over six, a tag that no span has over all six hours and every service,
and dependencies over one hour.  Queries run column by column, the tag index
first; without the index a tag search scans its window (seconds a query at a
million spans), so ``--scan-queries`` caps that column's runs of each query.
Temporary folders are removed at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from backend.storage.api import Storage, TraceQuery
from backend.storage.factory import create_storage
from benchmarks.storage_load import HOUR, SPREAD, Plan, TimedWriter, load
from loadgen.synthetic import TIER_ATTRIBUTE, operation_name, service_name

SQL_COLUMNS = {"no-index": ("sql, no tag index", {"tags": False}), "index": ("sql, tag index", {})}


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


@dataclass
class Column:
    """One store under test: its label, the store, where its files are, and how many runs each query gets."""

    label: str
    storage: Storage
    folder: Path | None
    queries: int
    six_hour_queries: int
    scans: bool = False  # a tag search reads its whole window: queried last


def queries(column: Column, trace_ids: list[bytes], base_ns: int) -> Results:
    """Time ``column``'s queries over the loaded spans."""
    results: Results = {"runs of each query; of the 6h no-match": f"{column.queries}; {column.six_hour_queries}"}
    storage, runs = column.storage, column.queries
    reader = storage.reader()
    window: dict[str, Any] = {"start_min_ns": base_ns + SPREAD - HOUR, "start_max_ns": base_ns + SPREAD}
    six_hours: dict[str, Any] = {"start_min_ns": base_ns, "start_max_ns": base_ns + SPREAD}

    def search(**fields: Any) -> Callable[[int], object]:
        return lambda i: reader.find_traces(TraceQuery(service=service_name(i % 5), limit=20, **window, **fields))

    results["get_trace"] = percentiles(timed(runs, lambda i: reader.get_trace(trace_ids[i % len(trace_ids)])))
    results["find_traces service+1h"] = percentiles(timed(runs, search()))
    operation = search(operation=operation_name(0, 1))
    results["find_traces +operation"] = percentiles(timed(runs, lambda i: operation(0)))
    tagged = search(tags={TIER_ATTRIBUTE: "gold"})
    results["find_traces +tag (root spans)"] = percentiles(timed(runs, lambda i: tagged(0)))
    # As hotrod bench asks: a random service, most of which have no root span, so no span with the tag.
    results["find_traces +tag, each service"] = percentiles(timed(runs, tagged))
    six_hour_tag = TraceQuery(tags={TIER_ATTRIBUTE: "gold"}, limit=20, **six_hours)
    results["tag, 6h, each service"] = percentiles(
        timed(runs, lambda i: reader.find_traces(replace(six_hour_tag, service=service_name(i % 5))))
    )
    no_match = TraceQuery(tags={TIER_ATTRIBUTE: "platinum"}, limit=20, **six_hours)
    results["tag, no match, 6h, all services"] = percentiles(
        timed(column.six_hour_queries, lambda i: reader.find_traces(no_match))
    )
    results["find_traces +min duration 400ms"] = percentiles(timed(runs, search(duration_min_ns=400_000_000)))
    end = base_ns + SPREAD
    dependencies = storage.dependency_reader()
    results["dependencies 1h (5 runs)"] = percentiles(timed(5, lambda i: dependencies.get_dependencies(end, HOUR)))
    return results


def disk_bytes(folder: Path | None) -> int:
    """Bytes of the store's files in ``folder`` (SQLite's, embedded ClickHouse's); 0 when it has none."""
    if folder is None:
        return 0
    files = [*folder.glob("traces.db*"), *(f for f in (folder / "clickhouse").rglob("*") if f.is_file())]
    return sum(f.stat().st_size for f in files)


def columns_of(args: argparse.Namespace, total: int) -> list[Column]:
    counts = (args.queries, args.six_hour_queries)
    cap = args.scan_queries or max(counts)
    scan_counts = (min(args.queries, cap), min(args.six_hour_queries, cap))
    if args.memory:
        return [Column("memory", create_storage("memory", {"max_traces": total}, "bench"), None, *counts)]
    if args.clickhouse:
        folder = Path(tempfile.mkdtemp(prefix="storage-bench-"))
        options = {"path": str(folder / "clickhouse"), "retention": 0}
        return [Column("clickhouse", create_storage("clickhouse", options, "bench"), folder, *counts)]
    names = args.columns.split(",")
    for name in names:  # all checked before any store is created
        if name not in SQL_COLUMNS:
            raise SystemExit(f"--columns: {name!r} is not one of {', '.join(SQL_COLUMNS)}")
    columns: list[Column] = []
    for name in names:
        label, index = SQL_COLUMNS[name]
        folder = Path(tempfile.mkdtemp(prefix="storage-bench-"))
        url = args.url or f"sqlite:///{folder / 'traces.db'}"
        schema = f"{args.schema}_{len(columns)}" if args.schema else ""
        options = {"url": url, "retention": 0, "index": index, **({"schema": schema} if schema else {})}
        runs = scan_counts if name == "no-index" else counts
        columns.append(Column(label, create_storage("sql", options, "bench"), folder, *runs, name == "no-index"))
    return columns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--url", help="an SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--schema", default="", help="PostgreSQL schema to use (created, left in place)")
    parser.add_argument("--columns", default="no-index,index", help="sql columns, in print order: no-index, index")
    parser.add_argument("--memory", action="store_true", help="benchmark the memory plug-in instead")
    parser.add_argument("--clickhouse", action="store_true", help="benchmark embedded ClickHouse (chDB) instead")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--six-hour-queries", type=int, default=10, help="runs of the no-match six-hour search (a scan takes seconds)"
    )
    parser.add_argument("--scan-queries", type=int, help="at most this many runs of each query without the tag index")
    parser.add_argument("--ahead", type=int, default=100_000, help="spans made before each run of writes")
    parser.add_argument("--keep", action="store_true", help="leave the temporary folders in place")
    args = parser.parse_args()

    plan = Plan(args.spans, args.batch, time.time_ns() - SPREAD)
    columns = columns_of(args, plan.total)
    try:
        results = measure(plan, columns, args.ahead)
    finally:  # also when interrupted: a 10 M-span column holds gigabytes
        for folder in {column.folder for column in columns if column.folder is not None and not args.keep}:
            shutil.rmtree(folder, ignore_errors=True)
    labels = [column.label for column in columns]
    width = 2 + max(len(text) for text in [*labels, *(f for figures in results.values() for f in figures.values())])
    print(f"\n{plan.total:,} spans; {'':<34}" + "".join(f"{label:>{width}}" for label in labels))
    for name in results[labels[0]]:
        print(f"{name:<45}" + "".join(f"{results[label].get(name, '-'):>{width}}" for label in labels))


def measure(plan: Plan, columns: list[Column], ahead: int) -> dict[str, Results]:
    """Load ``plan`` into every column in turn, then query and close each, the tag index first; printed as it goes."""
    labels = [column.label for column in columns]
    print(f"loading {plan.total:,} spans in batches of {plan.batch} into: {'; '.join(labels)}", flush=True)
    writers = [TimedWriter(column.label, column.storage.writer()) for column in columns]
    trace_ids = load(plan, writers, max(c.queries for c in columns), ahead)
    results = {writer.label: writer.results() for writer in writers}
    print("".join(f"  {w.label}: {', '.join(f'{k} {v}' for k, v in results[w.label].items())}\n" for w in writers))
    for column, writer in sorted(zip(columns, writers, strict=True), key=lambda pair: pair[0].scans):
        print(f"{column.label}: querying ...", flush=True)
        results[column.label].update(queries(column, trace_ids, plan.base_ns))
        column.storage.close()  # SQLite checkpoints and removes the WAL on the last close
        size = disk_bytes(column.folder)
        if size:
            results[column.label]["disk bytes/span"] = f"{size / writer.spans:,.0f} ({size / 1e6:,.0f} MB)"
        print("".join(f"  {name:<43}{figure:>30}\n" for name, figure in results[column.label].items()), flush=True)
    return results


if __name__ == "__main__":
    main()
