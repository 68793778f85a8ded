"""The jaeger-clickhouse searches on the clickhouse plug-in's reader, before and after, in one run.

Usage (from the repository root):
    .venv/bin/python -m benchmarks.clickhouse_search [--traces 100000] [--runs 10] [--rounds 2] [--optimize]

An embedded store is filled with tracegen data (``--traces`` of 10 spans over 10 days, written by
the plug-in's writer); each search of ``hotrod bench --dataset jaeger-clickhouse`` (storage level:
trace ids only, limit 1,000, the data's whole time range) then runs in two forms, alternating
round by round so that the machine's drift hits both alike:

- before: one statement over the whole range, ``ORDER BY start_ns DESC`` over every match, a tag
  tested by its key/text pair alone (the reader as it was);
- after: the reader as shipped (``reader.newest_first``: the newest sixteenth of the range, then
  the next quarter, then the rest, stopping once the limit is found; a tag's text tested first).

Both must return the same trace ids, in the same order (checked). Wall p50/p99 on a shared machine
follow its load; CPU per call (the process's, the engine's threads included) is the steadier
figure.  ``--optimize`` merges the table to its final parts first (as it is long after a load);
without it the parts are as the load left them, merging in the background meanwhile.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

from backend.storage.api import TraceQuery
from backend.storage.clickhouse.filters import TAG_PAIRS, hex_list, where
from backend.storage.clickhouse.schema import Layout
from benchmarks.clickhouse_common import load_line, scratch_store, timed
from loadgen.bench.jaeger_clickhouse.load import Prepared
from loadgen.bench.jaeger_clickhouse.queries import STORAGE_LIMIT, searches
from loadgen.tracegen import TracegenShape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=100_000, help="tracegen traces of 10 spans")
    parser.add_argument("--runs", type=int, default=10, help="searches per form and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--optimize", action="store_true", help="merge the spans table to its final parts first")
    args = parser.parse_args()
    with scratch_store(args.traces, "ch-search-") as (storage, trace_ids):
        connection = storage._connection  # noqa: SLF001 - a benchmark reaches into the engine on purpose
        spans = Layout("jaeger").table("spans")
        if args.optimize:
            connection.command(f"OPTIMIZE TABLE {spans} FINAL")
        bounds = connection.arrow(f"SELECT min(start_ns) AS low, max(start_ns) AS high FROM {spans}").to_pylist()[0]
        shape = TracegenShape(traces=args.traces)  # what scratch_store loads
        prepared = Prepared(Path(), 0, shape, trace_ids, bounds["low"], bounds["high"])
        reader = storage.reader()

        def before(query: TraceQuery) -> list[bytes]:
            """One statement, every match in the range sorted; a tag by its pair alone (or its process's)."""
            condition = where(replace(query, tags={}), reader.processes_with)
            params = dict(condition.params)
            tests = [condition.sql]
            for number, (key, value) in enumerate(sorted(query.tags.items())):
                params[f"pair{number}"] = f"{key}\x1f{value}"
                processes = reader.processes_with(key, value, ("resource", "scope"))
                in_process = f" OR process_id IN ({hex_list(processes)})" if processes else ""
                tests.append(f"(has({TAG_PAIRS}, {{pair{number}:String}}){in_process})")
            rows = connection.arrow(
                f"SELECT trace_id FROM {spans} WHERE {' AND '.join(tests)}"
                f" ORDER BY start_ns DESC, trace_id LIMIT 1 BY trace_id LIMIT {query.limit}",
                params,
            )
            found: list[bytes] = rows.column("trace_id").to_pylist()
            return found

        queries = {name: replace(query, limit=STORAGE_LIMIT) for name, query in searches(prepared).items()}
        forms: dict[str, Callable[[TraceQuery], list[bytes]]] = {"before": before, "after": reader.find_trace_ids}
        print(f"{shape.spans:,} spans; parts {'merged' if args.optimize else 'as loaded'}; {load_line()}")
        print(f"{'round':>5} {'search':22} {'form':7} {'found':>6} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/call':>12}")
        for round_number in range(1, args.rounds + 1):
            for name, query in queries.items():
                same = forms["before"](query) == forms["after"](query)
                order = list(forms.items()) if round_number % 2 else list(reversed(forms.items()))
                for form_name, form in order:
                    found = len(form(query))
                    p50, p99, cpu = timed(partial(form, query), args.runs)
                    note = "" if same else "  DIFFERENT RESULTS"
                    cells = f"{found:>6} {p50:>8.1f} {p99:>8.1f} {cpu:>12.1f}{note}"
                    print(f"{round_number:>5} {name:22} {form_name:7} {cells}")
        print(load_line())


if __name__ == "__main__":
    main()
