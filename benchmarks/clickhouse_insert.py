"""Where the clickhouse plug-in's insert CPU goes, and what block size and the side tables change, side by side.

Usage (from the repository root):
    .venv/bin/python -m benchmarks.clickhouse_insert [--traces 30000] [--blocks 8192,65536] [--forms views,writer]

Tracegen spans, decoded as the OTLP receiver does, are written into one embedded engine, a
database per variant, in deliveries of each block size given (the exporter's
``sending_queue.batch.max_size``): "views", the spans inserted alone with materialized views
filling ``trace_times`` and ``operations`` (the plug-in before); "writer", the plug-in's writer
as shipped, which fills both from its own Arrow columns; "spans only", the floor.  Merges are
stopped while inserting, so each stage's CPU is its own (the process's CPU, the engine's threads
included): Python (building the Arrow columns and side tables), the engine's inserts, and, with
merges started again after the load, the CPU the background merges take until they settle.
The attribute search (``attr_00=val_00``, one span in ~9,000) runs on the unmerged parts, as a
query right after a load finds them, and again once merged.  Decode-and-walk, the yardstick of
``hotrod bench``, is printed beside the per-span costs.

``--streaming-inserter`` compares, in the same run, the engine's insert of each largest delivery's
spans table as the plug-in makes it (the Arrow stream written to a file that ``INSERT ... FROM
INFILE`` reads) with chDB's streaming inserter, handed the stream a record batch at a time (the
plug-in before: it reports success for rows it failed to write, see engine.py): what the fix costs.
"""

from __future__ import annotations

import argparse
import io
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa

from backend.core.binding import Duration
from backend.spans.model import SpanBatch
from backend.storage.api import TraceQuery
from backend.storage.clickhouse.config import ClickHouseOptions
from backend.storage.clickhouse.engine import Connection
from backend.storage.clickhouse.schema import Layout
from backend.storage.clickhouse.store import ClickHouseStorage
from backend.storage.clickhouse.writer import ClickHouseWriter, processes_table, spans_table
from benchmarks.clickhouse_common import batches, load_line, timed
from loadgen.bench.reference import decode_and_walk
from loadgen.tracegen import Tracegen, TracegenShape

FORMS = ("views", "writer", "spans only")
_VIEWS = {  # the plug-in's materialized views before its writer filled the side tables
    "trace_times": "SELECT trace_id, min(start_ns) AS first_ns, max(start_ns + duration_ns) AS last_ns"
    " FROM {spans} GROUP BY trace_id",
    "operations": "SELECT DISTINCT service, name, kind FROM {spans}",
}
_SETTLED_POLLS = 12  # polls in a row (6 s) with no merge running and the same number of parts
_DAY_NS = 86_400_000_000_000
_SEARCH = TraceQuery(tags={"attr_00": "val_00"}, limit=1000)


@dataclass
class Stages:
    python_us: float = 0.0  # CPU µs a span
    insert_us: float = 0.0
    merge_us: float = 0.0
    parts_loaded: int = 0
    parts_merged: int = 0
    search_loaded_ms: tuple[float, float] = (0.0, 0.0)  # p50, p99
    search_merged_ms: tuple[float, float] = (0.0, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=30_000, help="tracegen traces of 10 spans")
    parser.add_argument("--blocks", default="8192,65536", help="spans a delivery, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="attribute searches per variant and state")
    parser.add_argument("--forms", default=",".join(FORMS), help=f"comma-separated, of: {', '.join(FORMS)}")
    parser.add_argument(
        "--streaming-inserter", action="store_true", help="also time the insert through chDB's streaming inserter"
    )
    parser.add_argument("--rounds", type=int, default=2, help="loads of each variant; the least CPU of each stage")
    args = parser.parse_args()
    blocks = [int(size) for size in args.blocks.split(",")]
    forms = args.forms.split(",")
    if unknown := set(forms) - set(FORMS):
        parser.error(f"unknown forms: {', '.join(sorted(unknown))}")
    # 100,000 spans a day partition, as 1 M spans over 10 days in ``hotrod bench --dataset jaeger-clickhouse``
    shape = TracegenShape(traces=args.traces, span_ns=max(1, args.traces // 10_000) * _DAY_NS)
    generator = Tracegen(shape, end_ns=time.time_ns())
    bodies = [request.SerializeToString() for request in generator.requests()]
    walk_us = 1e6 / decode_and_walk(bodies)
    spans = args.traces * 10
    folder = Path(tempfile.mkdtemp(prefix="ch-insert-"))
    try:
        results: dict[str, Stages] = {}
        first = ClickHouseStorage(ClickHouseOptions(path=str(folder), database="warmup", retention=Duration(0)))
        connection = first._connection  # noqa: SLF001 - a benchmark reaches into the engine on purpose
        connection.command("SET use_query_condition_cache = 0")
        warmup = list(batches(Tracegen(TracegenShape(traces=2000), end_ns=time.time_ns())))
        for batch in warmup:  # first calls load code and caches: not counted against the first variant
            first.writer().write(batch)
        loads = {block: list(batches(Tracegen(shape, end_ns=time.time_ns()), block)) for block in blocks}
        for round_number in range(args.rounds):  # rounds alternate, so that drift in the machine's load hits all
            for block, deliveries in loads.items():
                for form in forms:
                    name = f"{form}, {block:,}-span blocks"
                    database = f"r{round_number}_{form.replace(' ', '_')}_{block}"
                    stages = _variant(folder, connection, database, deliveries, form, args.runs, spans)
                    results[name] = _least(results[name], stages) if name in results else stages
        if args.streaming_inserter:
            _streaming_inserter(connection, loads[max(blocks)], args.rounds)
        first.close()
        print(f"{spans:,} spans; decode-and-walk {walk_us:.2f} us CPU a span; {load_line()}")
        print(
            f"{'variant':30} {'python us':>9} {'insert us':>9} {'merge us':>8} {'total us':>8} {'x walk':>6}"
            f" {'parts':>11} {'attr p50/p99 loaded':>20} {'attr p50/p99 merged':>20}"
        )
        for name, stages in results.items():
            total = stages.python_us + stages.insert_us + stages.merge_us
            print(
                f"{name:30} {stages.python_us:>9.2f} {stages.insert_us:>9.2f} {stages.merge_us:>8.2f} {total:>8.2f}"
                f" {walk_us / total:>6.2f} {stages.parts_loaded:>5} -> {stages.parts_merged:<3}"
                f" {_pair(stages.search_loaded_ms):>20} {_pair(stages.search_merged_ms):>20}"
            )
        print(load_line())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class _TimedInserts:
    """The connection, with the CPU its inserts take counted apart (the rest of a write is Python's)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.insert_s = 0.0

    def insert(self, table: str, data: pa.Table) -> None:
        started = time.process_time()
        self.connection.insert(table, data)
        self.insert_s += time.process_time() - started

    def command(self, sql: str, params: dict[str, Any] | None = None) -> None:
        self.connection.command(sql, params)

    def arrow(self, sql: str, params: dict[str, Any] | None = None, settings: dict[str, int] | None = None) -> pa.Table:
        return self.connection.arrow(sql, params, settings)

    def close(self) -> None:
        self.connection.close()


def _variant(
    folder: Path, connection: Connection, database: str, deliveries: list[SpanBatch], form: str, runs: int, spans: int
) -> Stages:
    storage = ClickHouseStorage(ClickHouseOptions(path=str(folder), database=database, retention=Duration(0)))
    layout = Layout(database)
    if form == "views":
        for target, select in _VIEWS.items():
            connection.command(
                f"CREATE MATERIALIZED VIEW `{database}`.`{target}_mv` TO {layout.table(target)}"
                f" AS {select.format(spans=layout.table('spans'))}"
            )
    connection.command("SYSTEM STOP MERGES")
    processes = {pid: blob for batch in deliveries for pid, blob in batch.processes.items()}
    connection.insert(layout.table("processes"), processes_table(processes))
    timed_inserts = _TimedInserts(connection)
    writer = ClickHouseWriter(timed_inserts, layout)
    started = time.process_time()
    for batch in deliveries:
        if form == "writer":
            writer.write(batch)
        else:
            timed_inserts.insert(layout.table("spans"), spans_table(batch))
    stages = Stages(insert_us=timed_inserts.insert_s)
    stages.python_us = time.process_time() - started - timed_inserts.insert_s
    stages.parts_loaded = _parts(connection, database)
    reader = storage.reader()
    stages.search_loaded_ms = timed(lambda: reader.find_trace_ids(_SEARCH), runs)[:2]
    started = time.process_time()
    connection.command("SYSTEM START MERGES")
    stages.parts_merged = _settled(connection, database)
    stages.merge_us = time.process_time() - started
    stages.search_merged_ms = timed(lambda: reader.find_trace_ids(_SEARCH), runs)[:2]
    for field in ("python_us", "insert_us", "merge_us"):
        setattr(stages, field, getattr(stages, field) / spans * 1e6)
    storage.close()
    connection.command(f"DROP DATABASE `{database}`")
    return stages


def _streaming_inserter(connection: Connection, deliveries: list[SpanBatch], rounds: int) -> None:
    """Engine CPU a span for the same tables inserted as the plug-in does and through chDB's streaming inserter."""
    tables = [spans_table(batch) for batch in deliveries]
    spans = sum(table.num_rows for table in tables)
    raw = connection._connection  # type: ignore[attr-defined]  # noqa: SLF001 - chDB's own connection
    target = "`warmup`.`spans`"

    def streamed(table: pa.Table) -> None:
        written = io.BytesIO()
        sql = f"INSERT INTO {target} ({', '.join(table.column_names)}) SETTINGS optimize_on_insert = 0"
        with raw.send_insert(sql, "ArrowStream") as inserter:
            with pa.ipc.new_stream(pa.PythonFile(written, mode="w"), table.schema) as stream:
                for batch in table.to_batches():
                    stream.write_batch(batch)
                    inserter.append(written.getvalue())
                    written.seek(0)
                    written.truncate()
            inserter.append(written.getvalue())
            inserter.finish()

    forms: dict[str, Callable[[pa.Table], None]] = {
        "from a file (shipped)": partial(connection.insert, target),
        "streaming inserter (before)": streamed,
    }
    best: dict[str, float] = {}
    connection.command("SYSTEM STOP MERGES")
    for _ in range(rounds):
        for name, insert in forms.items():
            started = time.process_time()
            for table in tables:
                insert(table)
            best[name] = min(best.get(name, 1e9), (time.process_time() - started) / spans * 1e6)
    connection.command("SYSTEM START MERGES")
    shipped, before = best.values()
    print(
        f"engine insert of {len(tables[0]):,}-span tables, CPU us a span (least of {rounds}): "
        + ", ".join(f"{name} {cpu:.2f}" for name, cpu in best.items())
        + f" (shipped / before {shipped / before:.2f}x); {load_line()}"
    )


def _least(best: Stages, new: Stages) -> Stages:
    """The least CPU of each stage so far (contention only adds), the newest round's parts and searches."""
    new.python_us = min(best.python_us, new.python_us)
    new.insert_us = min(best.insert_us, new.insert_us)
    new.merge_us = min(best.merge_us, new.merge_us)
    return new


def _parts(connection: Connection, database: str) -> int:
    """Active parts of the spans table."""
    rows = connection.arrow(
        "SELECT count() AS parts FROM system.parts WHERE active AND database = {database:String} AND table = 'spans'",
        {"database": database},
    )
    return int(rows.column("parts")[0].as_py())


def _settled(connection: Connection, database: str) -> int:
    """The active parts once no merge has run and their number has not changed for a few polls in a row."""
    quiet, last = 0, -1
    while quiet < _SETTLED_POLLS:
        time.sleep(0.5)
        merging = connection.arrow("SELECT count() AS running FROM system.merges").column("running")[0].as_py()
        parts = _parts(connection, database)
        quiet = quiet + 1 if not merging and parts == last else 0
        last = parts
    return last


def _pair(values: tuple[float, float]) -> str:
    return f"{values[0]:.0f} / {values[1]:.0f}"


if __name__ == "__main__":
    main()
