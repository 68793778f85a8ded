"""Attribute search on the clickhouse plug-in: which skip index buys speed for how many bytes a span.

Usage (from the repository root):
    .venv/bin/python -m benchmarks.clickhouse_attribute_index [--traces 100000] [--runs 20]

The spans table (tracegen data, written by the plug-in's writer) is copied into one table per
variant, each merged to its final parts: no index; bloom filters on the key/text pairs
(``filters.TAG_PAIRS``, the expression the search tests) at two false-positive rates and two
index granularities; and the text index ``tag_index: true`` adds.  For each it prints bytes a
span (the spans table alone; ``trace_times`` adds ~3) and the reader's attribute search over all
the data, newest first, up to 1,000 traces: ``attr_00=val_00`` (one span in ~9,000: a match in
nearly every 8,192-row granule) and a pair no span has.  ClickHouse's query condition cache, which
remembers the granules a repeated condition matched, is off unless ``--condition-cache`` is given,
so the figures are each index's own.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from functools import partial
from pathlib import Path

from backend.storage.clickhouse.filters import TAG_PAIRS
from backend.storage.clickhouse.schema import Layout
from benchmarks.clickhouse_common import filled_store, load_line, timed

VARIANTS: dict[str, tuple[str, int]] = {  # name: (index clause, index_granularity)
    "no index": ("", 8192),  # the bloom filter at 1% on 8,192 rows is what the plug-in ships
    "bloom 1% / 8192 rows": (f"INDEX pairs {TAG_PAIRS} TYPE bloom_filter(0.01) GRANULARITY 1", 8192),
    "bloom 1% / 1024 rows": (f"INDEX pairs {TAG_PAIRS} TYPE bloom_filter(0.01) GRANULARITY 1", 1024),
    "bloom 5% / 1024 rows": (f"INDEX pairs {TAG_PAIRS} TYPE bloom_filter(0.05) GRANULARITY 1", 1024),
    "text index (tag_index)": (f"INDEX pairs {TAG_PAIRS} TYPE text(tokenizer = 'array') GRANULARITY 1", 8192),
}
_SPANS = "`jaeger`.`spans`"
PAIRS = {"match": "attr_00\x1fval_00", "no match": "attr_00\x1fno-such-value"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=100_000, help="tracegen traces of 10 spans")
    parser.add_argument("--runs", type=int, default=20, help="searches per variant and pair")
    parser.add_argument("--condition-cache", action="store_true", help="keep the query condition cache on")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ch-attribute-index-"))
    try:
        storage, _ = filled_store(folder, args.traces)
        connection = storage._connection  # noqa: SLF001 - a benchmark reaches into the engine on purpose
        spans = args.traces * 10
        connection.command(f"SET use_query_condition_cache = {int(args.condition_cache)}")
        print(f"{spans:,} spans; {load_line()}")
        print(f"{'variant':24} {'B/span':>7} " + " ".join(f"{pair + ' p50/p99 ms':>22}" for pair in PAIRS))
        for number, (name, (index, granularity)) in enumerate(VARIANTS.items()):
            table = f"`jaeger`.`variant{number}`"
            connection.command(_variant(Layout("jaeger"), table, index, granularity))
            connection.command(f"INSERT INTO {table} SELECT * FROM {_SPANS}")
            connection.command(f"OPTIMIZE TABLE {table} FINAL")
            size = connection.arrow(
                "SELECT sum(bytes_on_disk) AS b FROM system.parts"
                f" WHERE active AND database = 'jaeger' AND table = 'variant{number}'"
            )
            cells = []
            for pair in PAIRS.values():
                sql = (
                    f"SELECT trace_id FROM {table} WHERE has({TAG_PAIRS}, {{pair:String}})"
                    " ORDER BY start_ns DESC, trace_id LIMIT 1 BY trace_id LIMIT 1000"
                )
                p50, p99, _ = timed(partial(connection.arrow, sql, {"pair": pair}), args.runs)
                cells.append(f"{p50:>10.1f} / {p99:>9.1f}")
            bytes_per_span = size.column("b")[0].as_py() / spans
            print(f"{name:24} {bytes_per_span:>7.1f} " + " ".join(f"{cell:>22}" for cell in cells))
            connection.command(f"DROP TABLE {table}")
        print(load_line())
        storage.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _variant(layout: Layout, table: str, index: str, granularity: int) -> str:
    """The plug-in's spans table under another name, with ``index`` added and that index granularity."""
    (create,) = [sql for sql in layout.statements() if sql.startswith(f"CREATE TABLE IF NOT EXISTS {_SPANS} (")]
    create = create.replace(_SPANS, table, 1)
    # without the shipped bloom filter on the pairs, so that "no index" is none
    create = "\n".join(line for line in create.split("\n") if "INDEX tag_pairs_bloom" not in line)
    create = create.replace("GRANULARITY 1,\n)", "GRANULARITY 1\n)")
    if index:
        create = create.replace("GRANULARITY 1\n)", f"GRANULARITY 1,\n                {index}\n)", 1)
    return f"{create} SETTINGS index_granularity = {granularity}"


if __name__ == "__main__":
    main()
