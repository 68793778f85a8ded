"""Finding one trace in the clickhouse plug-in, statement by statement, before and after, in one run.

Usage (from the repository root):
    .venv/bin/python -m benchmarks.clickhouse_get_trace [--traces 20000] [--runs 50] [--rounds 2]

Also prints the writer's tag columns built span by span (``tags.batch_tags``, before) and in bulk
(``tag_columns``, after), CPU µs a span on the same batches.

For random trace ids of tracegen data in an embedded store: the reader's ``get_trace`` as
shipped; its spans statement with the trace's time window as two scalar subqueries on
``trace_times`` (before) and as one subquery giving both ends (after); the ``trace_times``
lookup alone; the spans statement with the window given as literals (what the subquery costs)
and without the payload column (what reading the payloads costs); and ``SELECT 1``, the floor
every chDB statement pays.  Wall p50/p99 on a shared
machine follow its load; CPU per call (the process's, the engine's threads included) is the
steadier figure.  Rounds alternate so that drift hits every form alike.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from backend.storage.clickhouse.filters import hex_list
from backend.storage.clickhouse.schema import Layout
from backend.storage.clickhouse.tag_columns import tag_columns
from backend.storage.clickhouse.tags import batch_tags
from benchmarks.clickhouse_common import batches, load_line, scratch_store, timed
from loadgen.tracegen import Tracegen, TracegenShape

_COLUMNS = (
    "trace_id, span_id, parent_span_id, service, name, kind, start_ns, duration_ns, status_code, process_id, payload"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=20_000, help="tracegen traces of 10 spans")
    parser.add_argument("--runs", type=int, default=50, help="lookups per form and round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    span_by_span, bulk = tag_cpu(min(args.traces, 10_000))
    print(f"tag columns, CPU us a span: span by span {span_by_span:.2f}, bulk {bulk:.2f} ({span_by_span / bulk:.1f}x)")
    with scratch_store(args.traces, "ch-get-trace-") as (storage, trace_ids):
        connection = storage._connection  # noqa: SLF001 - a benchmark reaches into the engine on purpose
        layout = Layout("jaeger")
        spans, trace_times = layout.table("spans"), layout.table("trace_times")
        picked = iter(random.Random(1).choices(trace_ids, k=args.runs * args.rounds * 10))

        def two_subqueries() -> object:
            ids = hex_list([next(picked)])
            return connection.arrow(
                f"SELECT {_COLUMNS} FROM {spans} WHERE trace_id IN ({ids})"
                f" AND start_ns >= (SELECT min(first_ns) FROM {trace_times} WHERE trace_id IN ({ids}))"
                f" AND start_ns <= (SELECT max(last_ns) FROM {trace_times} WHERE trace_id IN ({ids}))"
                " ORDER BY start_ns LIMIT 1 BY trace_id, span_id"
            )

        def one_subquery(columns: str = _COLUMNS) -> object:
            ids = hex_list([next(picked)])
            return connection.arrow(
                f"WITH {layout.trace_window(f'trace_id IN ({ids})')} AS window"
                f" SELECT {columns} FROM {spans} WHERE trace_id IN ({ids})"
                " AND start_ns >= window.1 AND start_ns <= window.2 ORDER BY start_ns LIMIT 1 BY trace_id, span_id"
            )

        windows = {
            row["trace_id"]: (row["low"], row["high"])
            for row in connection.arrow(
                f"SELECT trace_id, min(first_ns) AS low, max(last_ns) AS high FROM {trace_times} GROUP BY trace_id"
            ).to_pylist()
        }

        def window_known() -> object:
            trace_id = next(picked)
            low, high = windows[trace_id]
            return connection.arrow(
                f"SELECT {_COLUMNS} FROM {spans} WHERE trace_id IN ({hex_list([trace_id])})"
                f" AND start_ns >= {low} AND start_ns <= {high} ORDER BY start_ns LIMIT 1 BY trace_id, span_id"
            )

        forms: dict[str, Callable[[], object]] = {
            "get_trace (as shipped)": lambda: storage.reader().get_trace(next(picked)),
            "before: two subqueries": two_subqueries,
            "after: one subquery": one_subquery,
            "spans, window known": window_known,
            "spans without payload": lambda: one_subquery(_COLUMNS.removesuffix(", payload")),
            "trace_times lookup alone": lambda: connection.arrow(
                f"SELECT min(first_ns), max(last_ns) FROM {trace_times} WHERE trace_id IN ({hex_list([next(picked)])})"
            ),
            "SELECT 1": lambda: connection.arrow("SELECT 1"),
        }
        print(f"{args.traces * 10:,} spans; {load_line()}")
        print(f"{'round':>5} {'form':26} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/call':>12}")
        for round_number in range(1, args.rounds + 1):
            for name, form in forms.items():
                p50, p99, cpu = timed(form, args.runs)
                print(f"{round_number:>5} {name:26} {p50:>8.2f} {p99:>8.2f} {cpu:>12.2f}")
        print(load_line())


if __name__ == "__main__":
    main()
