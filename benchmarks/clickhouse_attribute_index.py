"""Attribute search on the clickhouse plug-in: which skip index buys speed for how many bytes a span.

Usage (from the repository root):
    .venv/bin/python -m benchmarks.clickhouse_attribute_index [--traces 100000] [--runs 20]

The spans table (tracegen data, written by the plug-in's writer) is copied into one table per
variant, each merged to its final parts: no index; bloom filters on the key/text pairs
(``filters.TAG_PAIRS``, the expression the search tests) at two false-positive rates and three
index granularities; the attribute texts (``tag_values``) at ZSTD(1), as before, and ZSTD(3), as
shipped; and the text index ``tag_index: true`` adds.  For each it prints bytes a span (the spans
table alone; ``trace_times`` adds ~3), those of the texts and the reader's condition searched over
all the data, newest first, up to 1,000 traces: ``attr_00=val_00`` (one span in ~9,000: a match
in about one 8,192-row granule in four once merged) and a pair no span has, with the CPU a search
(the process's, the engine's threads included: the steadier figure on a shared machine).
ClickHouse's query condition cache, which remembers the granules a repeated condition matched, is
off unless ``--condition-cache`` is given, so the figures are each index's own.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from functools import partial
from pathlib import Path

from backend.storage.api import TraceQuery
from backend.storage.clickhouse.filters import TAG_PAIRS, where
from backend.storage.clickhouse.schema import Layout
from benchmarks.clickhouse_common import filled_store, load_line, timed

_TEXT_INDEX = f"INDEX pairs {TAG_PAIRS} TYPE text(tokenizer = 'array') GRANULARITY 1"
_BLOOM = f"INDEX pairs {TAG_PAIRS} TYPE bloom_filter(0.01) GRANULARITY 1"
VARIANTS: dict[str, tuple[str, int, str]] = {  # name: (index clause, index_granularity, the texts' codec)
    "no index": ("", 8192, "ZSTD(3)"),
    "bloom 1% / 8192, ZSTD(1) (before)": (_BLOOM, 8192, "ZSTD(1)"),
    "bloom 1% / 8192 rows (shipped)": (_BLOOM, 8192, "ZSTD(3)"),
    "bloom 1% / 4096 rows": (_BLOOM, 4096, "ZSTD(3)"),
    "bloom 1% / 2048 rows": (_BLOOM, 2048, "ZSTD(3)"),
    "bloom 5% / 2048 rows": (_BLOOM.replace("0.01", "0.05"), 2048, "ZSTD(3)"),
    "text index (tag_index)": (_TEXT_INDEX, 8192, "ZSTD(3)"),
}
_SPANS = "`jaeger`.`spans`"
_SHIPPED_TEXTS = "tag_values Array(String) CODEC(ZSTD(3))"
SEARCHES = {"match": TraceQuery(tags={"attr_00": "val_00"}), "no match": TraceQuery(tags={"attr_00": "no-such-value"})}


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
        heads = " ".join(f"{pair + ' p50/p99 ms, CPU':>30}" for pair in SEARCHES)
        print(f"{'variant':34} {'B/span':>7} {'texts':>6} {heads}")
        for number, (name, (index, granularity, codec)) in enumerate(VARIANTS.items()):
            table = f"`jaeger`.`variant{number}`"
            connection.command(_variant(Layout("jaeger"), table, index, granularity, codec))
            connection.command(f"INSERT INTO {table} SELECT * FROM {_SPANS}")
            connection.command(f"OPTIMIZE TABLE {table} FINAL")
            size = connection.arrow(
                "SELECT sum(bytes_on_disk) AS b FROM system.parts"
                f" WHERE active AND database = 'jaeger' AND table = 'variant{number}'"
            )
            texts = connection.arrow(
                "SELECT sum(column_data_compressed_bytes) AS b FROM system.parts_columns"
                f" WHERE active AND database = 'jaeger' AND table = 'variant{number}' AND column = 'tag_values'"
            )
            cells = []
            for query in SEARCHES.values():
                condition = where(query, lambda _key, _text, _levels: [])
                sql = (
                    f"SELECT trace_id FROM {table} WHERE {condition.sql}"
                    " ORDER BY start_ns DESC, trace_id LIMIT 1 BY trace_id LIMIT 1000"
                )
                p50, p99, cpu = timed(partial(connection.arrow, sql, condition.params), args.runs)
                cells.append(f"{p50:>7.1f} / {p99:>7.1f}, {cpu:>7.1f}")
            per_span = [table.column("b")[0].as_py() / spans for table in (size, texts)]
            print(f"{name:34} {per_span[0]:>7.1f} {per_span[1]:>6.1f} " + " ".join(f"{cell:>30}" for cell in cells))
            connection.command(f"DROP TABLE {table}")
        print(load_line())
        storage.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _variant(layout: Layout, table: str, index: str, granularity: int, codec: str) -> str:
    """The plug-in's spans table under another name, with ``index`` added, that index granularity and texts' codec."""
    (create,) = [sql for sql in layout.statements() if sql.startswith(f"CREATE TABLE IF NOT EXISTS {_SPANS} (")]
    create = create.replace(_SPANS, table, 1).replace(_SHIPPED_TEXTS, f"tag_values Array(String) CODEC({codec})")
    # without the shipped bloom filter on the pairs, so that "no index" is none
    create = "\n".join(line for line in create.split("\n") if "INDEX tag_pairs_bloom" not in line)
    create = create.replace("GRANULARITY 1,\n)", "GRANULARITY 1\n)")
    if index:
        create = create.replace("GRANULARITY 1\n)", f"GRANULARITY 1,\n                {index}\n)", 1)
    return f"{create} SETTINGS index_granularity = {granularity}"


if __name__ == "__main__":
    main()
