"""Finding one trace in the clickhouse plug-in: the shipped statement beside the layouts that could replace it.

Usage (from the repository root):
    .venv/bin/python -m benchmarks.clickhouse_get_trace [--traces 100000] [--runs 50] [--rounds 2]

Also prints the writer's tag columns built span by span (``tags.batch_tags``, before) and in bulk
(``tag_columns``, after), CPU µs a span on the same batches.

An embedded store is filled with tracegen data through the plug-in's writer; then each candidate
layout gets its own copy of ``spans`` (or ``trace_times``), inserted part by part from the original so
that every copy has the same parts. Random trace ids are looked up in each:

- ``get_trace`` as shipped (six columns, the rest of each span decoded from its payload: ``span_rows``) beside
  the same lookup reading all eleven columns of a span record (before), and the two statements alone; the
  first two again on one trace each of ``LONG_TRACES`` spans (written beside the others): decoding costs
  Python more a span than the columns, so past some length the column read is the cheaper;
- the shipped statement with ClickHouse's JIT on (before ``reader.NO_JIT``: the
  compiled-code cache is dropped first, so the form pays its compile on its fourth run as a process does);
- the statement with the window from a ``trace_times`` of 256-row granules;
- a projection of ``_part_offset`` sorted by trace id (a secondary index: the lookup reads only the trace's
  rows), with and without the window, and the ``INDEX … TYPE basic`` projection in place of the bloom filter;
- the window's services: the spans read through the primary key (service, start_ns) with the
  trace's services given, its best case;
- the parts of the cost: the spans statement with the window given as literals, the ``trace_times``
  lookup alone, ``SELECT 1`` (what every chDB statement costs).

Each variant's bytes a span and the engine's CPU a span to insert its copy (the plain copy beside it) are
printed first; ``trace_services`` is built from ``spans`` by a GROUP BY, so its figure is not what the
writer would spend. Wall p50/p99 on a shared machine follow its load; CPU per call (the process's, the engine's
threads included) is the steadier figure. Rounds alternate so that drift hits every form alike.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Iterator
from functools import partial

from backend.storage.api import Trace
from backend.storage.clickhouse.engine import Connection
from backend.storage.clickhouse.filters import hex_list
from backend.storage.clickhouse.reader import NO_JIT, ClickHouseReader
from backend.storage.clickhouse.schema import Layout
from backend.storage.clickhouse.span_rows import PAYLOAD_COLUMNS
from backend.storage.clickhouse.tag_columns import tag_columns
from backend.storage.clickhouse.tags import batch_tags
from benchmarks.clickhouse_common import batches, load_line, scratch_store, timed
from loadgen.tracegen import Tracegen, TracegenShape

_COLUMNS = (
    "trace_id, span_id, parent_span_id, service, name, kind, start_ns, duration_ns, status_code, process_id, payload"
)
LONG_TRACES = (300, 1_000, 3_000, 10_000)  # spans of the long traces read both ways
_BLOOM = "INDEX trace_id_bloom trace_id TYPE bloom_filter(0.001) GRANULARITY 1,"
_REPLACING = "SETTINGS deduplicate_merge_projection_mode = 'rebuild'"  # a ReplacingMergeTree takes projections so
# Copies of ``spans``: (name, what replaces the bloom filter's line in its DDL, table settings).
_SPANS_COPIES = (
    ("spans_copy", _BLOOM, ""),
    ("spans_offsets", "PROJECTION by_trace (SELECT _part_offset ORDER BY trace_id),", _REPLACING),
    ("spans_basic", "PROJECTION by_trace INDEX trace_id TYPE basic,", _REPLACING),
)


def tag_cpu(traces: int) -> tuple[float, float]:
    """CPU µs a span for the tag columns span by span and in bulk, best of three each."""
    payloads = [
        [r.payload for r in batch.spans] for batch in batches(Tracegen(TracegenShape(traces=traces), time.time_ns()))
    ]
    spans = sum(len(batch) for batch in payloads)
    best: dict[Callable[[list[bytes]], object], float] = {}
    for _ in range(3):
        for build in (batch_tags, tag_columns):
            started = time.process_time()
            for batch in payloads:
                build(batch)
            best[build] = min(best.get(build, 1e9), (time.process_time() - started) / spans * 1e6)
    return best[batch_tags], best[tag_columns]


def by_columns(reader: ClickHouseReader, trace_id: bytes) -> Trace:
    """``get_trace`` as it was before ``span_rows``: every field of the span records read as a column."""
    spans = reader._spans_of([trace_id], _COLUMNS)  # noqa: SLF001 - the reader's own statement, all columns
    return Trace(spans, reader._process_blobs({record.process_id for record in spans}))  # noqa: SLF001


def interleaved(forms: dict[str, Callable[[], object]], runs: int) -> dict[str, tuple[float, float, float]]:
    """(p50 ms, p99 ms, CPU ms a call) of each form over ``runs`` calls, one call of each in turn (the order
    rotating), so that drift on a shared machine hits every form alike; after one warm-up call each."""
    for form in forms.values():
        form()
    names = list(forms)
    walls: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, float] = dict.fromkeys(names, 0.0)
    for run in range(runs):
        for name in names[run % len(names) :] + names[: run % len(names)]:
            cpu_started, started = time.process_time(), time.perf_counter()
            forms[name]()
            walls[name].append((time.perf_counter() - started) * 1e3)
            cpu[name] += time.process_time() - cpu_started
    result = {}
    for name, samples in walls.items():
        samples.sort()
        p99 = samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]
        result[name] = (statistics.median(samples), p99, cpu[name] * 1e3 / runs)
    return result


def copied(connection: Connection, source: str, target: str, create: str, select: str = "*", tail: str = "") -> float:
    """``create`` run, then ``source`` inserted into ``target`` part by part; the engine's CPU seconds for it."""
    connection.command(create)
    parts = connection.arrow(
        "SELECT name FROM system.parts WHERE active AND database = 'jaeger' AND table = {table:String}",
        {"table": source},
    ).to_pylist()
    started = time.process_time()
    for part in parts:
        connection.command(
            f"INSERT INTO jaeger.{target} SELECT {select} FROM jaeger.{source} WHERE _part = {{part:String}}{tail}",
            {"part": part["name"].decode()},
        )
    return time.process_time() - started


def copies(connection: Connection, spans: int) -> Iterator[tuple[str, float, float]]:
    """Each variant's table made: (name, bytes a span, insert CPU µs a span); merges then stop everywhere."""
    spans_ddl = connection.arrow("SHOW CREATE TABLE jaeger.spans").column(0)[0].as_py().decode()
    for name, index, settings in _SPANS_COPIES:
        create = spans_ddl.replace("jaeger.spans", f"jaeger.{name}").replace(_BLOOM, index)
        create = f"{create[: create.rindex('SETTINGS index_granularity')]} {settings}"  # not the writer's settings
        insert_s = copied(connection, "spans", name, create)
        yield name, table_bytes(connection, name) / spans, insert_s / spans * 1e6
    create = (
        "CREATE TABLE jaeger.trace_times_256 AS jaeger.trace_times ENGINE = AggregatingMergeTree ORDER BY trace_id"
        " SETTINGS index_granularity = 256"
    )
    insert_s = copied(connection, "trace_times", "trace_times_256", create)
    yield "trace_times_256", table_bytes(connection, "trace_times_256") / spans, insert_s / spans * 1e6
    create = (
        "CREATE TABLE jaeger.trace_services (trace_id FixedString(16), first_ns SimpleAggregateFunction(min, Int64),"
        " last_ns SimpleAggregateFunction(max, Int64), services SimpleAggregateFunction(groupUniqArrayArray,"
        " Array(String))) ENGINE = AggregatingMergeTree ORDER BY trace_id"
    )
    select = "trace_id, min(start_ns), max(start_ns + duration_ns), groupUniqArray(toString(service))"
    insert_s = copied(connection, "spans", "trace_services", create, select, " GROUP BY trace_id")
    yield "trace_services", table_bytes(connection, "trace_services") / spans, insert_s / spans * 1e6
    yield "trace_times (shipped)", table_bytes(connection, "trace_times") / spans, 0.0
    connection.command("SYSTEM STOP MERGES")


def table_bytes(connection: Connection, table: str) -> int:
    """Bytes on disk of the table's active parts, its projections' parts included."""
    rows = connection.arrow(
        "SELECT sum(bytes_on_disk) AS bytes FROM system.parts WHERE active AND database = 'jaeger'"
        " AND table = {table:String}",
        {"table": table},
    )
    return int(rows.column("bytes")[0].as_py() or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=100_000, help="tracegen traces of 10 spans")
    parser.add_argument("--runs", type=int, default=50, help="lookups per form and round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    span_by_span, bulk = tag_cpu(min(args.traces, 10_000))
    print(f"tag columns, CPU us a span: span by span {span_by_span:.2f}, bulk {bulk:.2f} ({span_by_span / bulk:.1f}x)")
    with scratch_store(args.traces, "ch-get-trace-") as (storage, trace_ids):
        connection = storage._connection  # noqa: SLF001 - a benchmark reaches into the engine on purpose
        long_ids = {}
        for length in LONG_TRACES:
            shape = TracegenShape(traces=1, children=length - 1, traces_per_request=1)
            generator = Tracegen(shape, time.time_ns(), seed=length)
            for batch in batches(generator):
                storage.writer().write(batch)
            long_ids[length] = generator.trace_ids[0]
        spans_count = args.traces * 10 + sum(LONG_TRACES)
        print(f"{spans_count:,} spans; {load_line()}")
        print(f"{'table':22} {'bytes/span':>10} {'engine CPU us/span to copy in':>30}")
        for name, size, insert_us in copies(connection, spans_count):
            print(f"{name:22} {size:>10.2f} {insert_us:>30.2f}")
        spans = Layout("jaeger").table("spans")
        picked = iter(random.Random(1).choices(trace_ids, k=args.runs * args.rounds * 20))
        windows = {
            row["trace_id"]: (row["low"], row["high"], row["services"])
            for row in connection.arrow(
                "SELECT trace_id, min(first_ns) AS low, max(last_ns) AS high, groupUniqArrayArray(services) AS services"
                " FROM jaeger.trace_services GROUP BY trace_id"
            ).to_pylist()
        }

        def lookup(
            table: str = "spans", window: str = "trace_times", jit: bool = False, columns: str = PAYLOAD_COLUMNS
        ) -> object:
            """The reader's statement on ``table``, its window from the table ``window`` ("": no window)."""
            ids = hex_list([next(picked)])
            found = within = ""
            if window:
                found = (
                    f"WITH (SELECT (min(first_ns), max(last_ns)) FROM jaeger.{window} WHERE trace_id IN ({ids})) AS w "
                )
                within = " AND start_ns >= w.1 AND start_ns <= w.2"
            return connection.arrow(
                f"{found}SELECT {columns} FROM jaeger.{table} WHERE trace_id IN ({ids}){within}"
                " ORDER BY start_ns LIMIT 1 BY trace_id, span_id",
                settings=None if jit else NO_JIT,
            )

        def known(services: bool) -> object:
            trace_id = next(picked)
            low, high, names = windows[trace_id]
            by_service = f" AND service IN ({', '.join(repr(name.decode()) for name in names)})" if services else ""
            return connection.arrow(
                f"SELECT {PAYLOAD_COLUMNS} FROM {spans} WHERE trace_id IN ({hex_list([trace_id])})"
                f" AND start_ns >= {low} AND start_ns <= {high}{by_service}"
                " ORDER BY start_ns LIMIT 1 BY trace_id, span_id",
                settings=NO_JIT,
            )

        def jit_on() -> object:
            return lookup(jit=True)

        reader = storage.reader()
        reads: dict[str, Callable[[], object]] = {
            "get_trace (as shipped)": lambda: reader.get_trace(next(picked)),
            "before: 11 columns": lambda: by_columns(reader, next(picked)),
            "statement, 6 columns": lookup,
            "statement, 11 columns": lambda: lookup(columns=_COLUMNS),
        }
        long_reads: dict[str, Callable[[], object]] = {}
        for length, trace_id in long_ids.items():
            long_reads[f"{length:,} spans: get_trace"] = partial(reader.get_trace, trace_id)
            long_reads[f"{length:,} spans: 11 columns"] = partial(by_columns, reader, trace_id)
        forms: dict[str, Callable[[], object]] = {
            "before: JIT on": jit_on,
            "trace_times 256 rows": lambda: lookup(window="trace_times_256"),
            "offsets projection": lambda: lookup("spans_offsets", window=""),
            "offsets proj. + window": lambda: lookup("spans_offsets"),
            "basic index projection": lambda: lookup("spans_basic", window=""),
            "bloom, no window": lambda: lookup(window=""),
            "window + services known": lambda: known(services=True),
            "window known": lambda: known(services=False),
            "trace_times lookup alone": lambda: connection.arrow(
                "SELECT min(first_ns), max(last_ns) FROM jaeger.trace_times"
                f" WHERE trace_id IN ({hex_list([next(picked)])})"
            ),
            "SELECT 1": lambda: connection.arrow("SELECT 1"),
        }
        print(f"{'round':>5} {'form':26} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/call':>12}")
        for round_number in range(1, args.rounds + 1):
            for name, (p50, p99, cpu) in interleaved(reads, args.runs * 2).items():
                print(f"{round_number:>5} {name:26} {p50:>8.2f} {p99:>8.2f} {cpu:>12.2f}  (interleaved)")
            for name, (p50, p99, cpu) in interleaved(long_reads, max(args.runs // 5, 1)).items():
                print(f"{round_number:>5} {name:26} {p50:>8.2f} {p99:>8.2f} {cpu:>12.2f}  (interleaved)")
            for name, form in forms.items():
                if form is jit_on:
                    connection.command("SYSTEM DROP COMPILED EXPRESSION CACHE")  # it compiles again, as a process does
                p50, p99, cpu = timed(form, args.runs)
                print(f"{round_number:>5} {name:26} {p50:>8.2f} {p99:>8.2f} {cpu:>12.2f}")
        print(load_line())


if __name__ == "__main__":
    main()
