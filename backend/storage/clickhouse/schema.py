"""The ClickHouse tables of the ``clickhouse`` plug-in, as the DDL it runs (printed in docs/clickhouse.md).

``spans``: one row per span, sorted by ``(service, start_ns)`` so that a
search for a service in a time range reads only that stretch of the table
(the primary index prunes the rest), and the newest matches come first.
Names are ``LowCardinality`` (a few thousand distinct values in millions of
rows), times are delta-coded, everything is ZSTD.  ``tag_keys`` and
``tag_values`` hold each span's attribute texts (see ``tags``), so a tag
search scans those two columns only.  ``payload`` is the span's own OTLP bytes, read only for whole traces.
The table is a ``ReplacingMergeTree`` whose key ends in the trace and span
id: a span delivered twice is folded into one by background merges, and
readers fold what is not merged yet (``LIMIT 1 BY``, ``uniqExact``).

Side tables the writer fills from the same batch as the spans (no materialized views:
they cost the engine more CPU than the writer's Arrow group-by, ``benchmarks/clickhouse_insert.py``):
``trace_times`` (trace id → first start and last end; sorted by trace id,
so finding a trace is a primary-key lookup that then reads only the
partitions and key ranges of that time window, with a bloom filter on
``spans.trace_id`` to skip the rest), and ``operations`` (the service and
operation lists).  ``processes`` keeps each resource + scope once, with its
resource and its scope attributes as tag keys and texts.

Retention is a TTL on whole day partitions (``ttl_only_drop_parts``), so
expiry drops parts instead of rewriting them.  With ``cluster`` set, each
table is a ``Replicated*`` table ``<name>_local`` on every node (``ON
CLUSTER``) behind a ``Distributed`` table of the plain name, sharded by
trace id so every span of a trace lives on one shard.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.storage.clickhouse.filters import TAG_PAIRS

_DAY_NS = 86_400_000_000_000
# A bloom filter on each granule's key/text pairs: an attribute search skips the granules without its pair.
# At 1 M tracegen spans (``benchmarks/clickhouse_attribute_index.py``): +3.4 bytes a span, and a search for a pair
# one span in ~9,000 has takes a third of the CPU it takes without the filter, one for a pair no span has an eighth.
_PAIRS_BLOOM = f"INDEX tag_pairs_bloom {TAG_PAIRS} TYPE bloom_filter(0.01) GRANULARITY 1"
# The attribute texts at ZSTD(3), not (1): an attribute search decompresses them for every granule its bloom filter
# lets through, and level 3 finds the repeats level 1 misses.  Tracegen's texts: 8.8 -> 2.3 bytes a span, and half
# the CPU a search (docs/clickhouse.md, "Attribute search").  A table of an earlier version takes it by an ALTER
# that changes only its metadata: parts written or merged from then on use it.
_TAG_VALUES = "tag_values Array(String) CODEC(ZSTD(3))"
_DURABLE_INSERTS = "fsync_after_insert = 1, fsync_part_directory = 1"
_ADD_PAIRS_BLOOM = _PAIRS_BLOOM.replace("INDEX", "INDEX IF NOT EXISTS", 1)
_FORMER_VIEWS = ("trace_times", "operations")  # materialized views of earlier versions, dropped at start


@dataclass(frozen=True)
class Layout:
    database: str
    retention_s: int = 0  # 0: keep forever
    cluster: str = ""
    tag_index: bool = False  # a text index on the tags: attribute search by index, ~36 more bytes a span

    def table(self, name: str) -> str:
        """The name queries and inserts use (the Distributed one on a cluster)."""
        return f"`{self.database}`.`{name}`"

    def trace_window(self, condition: str) -> str:
        """The first start and last end of the traces ``condition`` picks in ``trace_times``: one scalar subquery
        giving a tuple, rather than one subquery for each end (each is a query pipeline of its own, ~3 ms of
        CPU here: ``benchmarks/clickhouse_get_trace.py``)."""
        return f"(SELECT (min(first_ns), max(last_ns)) FROM {self.table('trace_times')} WHERE {condition})"

    def statements(self) -> list[str]:
        """Every statement that creates what is missing; existing objects are left alone."""
        return [
            f"CREATE DATABASE IF NOT EXISTS `{self.database}`{self._on_cluster()}",
            *self._table(
                "spans",
                f"""
                trace_id FixedString(16) CODEC(ZSTD(1)),
                span_id FixedString(8) CODEC(ZSTD(1)),
                parent_span_id String CODEC(ZSTD(1)),
                service LowCardinality(String),
                name LowCardinality(String),
                kind UInt8,
                status_code UInt8,
                start_ns Int64 CODEC(Delta(8), ZSTD(1)),
                duration_ns Int64 CODEC(T64, ZSTD(1)),
                process_id LowCardinality(String),
                tag_keys Array(LowCardinality(String)) CODEC(ZSTD(1)),
                {_TAG_VALUES},
                payload String CODEC(ZSTD(3)),
                INDEX trace_id_bloom trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
                {_PAIRS_BLOOM}{self._tag_index()}""",
                "ReplacingMergeTree",
                f"PARTITION BY intDiv(start_ns, {_DAY_NS}) ORDER BY (service, start_ns, trace_id, span_id)"
                f"{self._ttl('start_ns')}",
                "cityHash64(trace_id)",
            ),
            *self._table(
                "trace_times",
                """
                trace_id FixedString(16),
                first_ns SimpleAggregateFunction(min, Int64),
                last_ns SimpleAggregateFunction(max, Int64)""",
                "AggregatingMergeTree",
                f"ORDER BY trace_id{self._ttl('last_ns')}",
                "cityHash64(trace_id)",
            ),
            *self._table(
                "operations",
                """
                service LowCardinality(String),
                name LowCardinality(String),
                kind UInt8""",
                "ReplacingMergeTree",
                "ORDER BY (service, name, kind)",
                "cityHash64(service)",
            ),
            *self._table(
                "processes",
                """
                id String,
                blob String CODEC(ZSTD(3)),
                resource_keys Array(String),
                resource_values Array(String),
                scope_keys Array(String),
                scope_values Array(String)""",
                "ReplacingMergeTree",
                "ORDER BY id",
                "cityHash64(id)",
            ),
            *self._added_columns("processes", "scope_keys Array(String)", "scope_values Array(String)"),
            # spans tables of earlier versions: parts written from now on get the filter (older ones are read whole)
            f"ALTER TABLE {self._local('spans')}{self._on_cluster()} ADD {_ADD_PAIRS_BLOOM}",
            f"ALTER TABLE {self._local('spans')}{self._on_cluster()} MODIFY COLUMN {_TAG_VALUES}",
            # tables of earlier versions: the writer fills these two itself now (see writer.py)
            *(f"DROP VIEW IF EXISTS `{self.database}`.`{target}_mv`{self._on_cluster()}" for target in _FORMER_VIEWS),
        ]

    def _added_columns(self, name: str, *columns: str) -> list[str]:
        """Columns added since a table was first created, so tables of earlier versions take the new inserts."""
        added = ", ".join(f"ADD COLUMN IF NOT EXISTS {column}" for column in columns)
        tables = [self._local(name), self.table(name)] if self.cluster else [self._local(name)]
        return [f"ALTER TABLE {table}{self._on_cluster()} {added}" for table in tables]

    def _tag_index(self) -> str:
        if not self.tag_index:
            return ""
        return f",\n                INDEX tags_text {TAG_PAIRS} TYPE text(tokenizer = 'array') GRANULARITY 1"

    def _on_cluster(self) -> str:
        return f" ON CLUSTER `{self.cluster}`" if self.cluster else ""

    def _ttl(self, column: str) -> str:
        if not self.retention_s:
            return ""
        return (
            f" TTL toDateTime(intDiv({column}, 1000000000)) + INTERVAL {self.retention_s} SECOND"
            " SETTINGS ttl_only_drop_parts = 1"
        )

    def _local(self, name: str) -> str:
        """The table that holds the rows: itself on one node, ``<name>_local`` on each node of a cluster."""
        return self.table(f"{name}_local" if self.cluster else name)

    def _table(self, name: str, columns: str, engine: str, clauses: str, shard_key: str) -> list[str]:
        if self.cluster:
            engine = f"Replicated{engine}('/clickhouse/tables/{{shard}}/{self.database}/{name}', '{{replica}}')"
        create = (
            f"CREATE TABLE IF NOT EXISTS {self._local(name)}{self._on_cluster()} ({columns}\n)"
            f" ENGINE = {engine} {clauses}"
        )
        # A part is on disk before the insert returns: the exporter then lets the persistent queue forget the
        # batch, so an unsynced part would be lost to a power cut (ClickHouse leaves that to the OS by default).
        durable = f"ALTER TABLE {self._local(name)}{self._on_cluster()} MODIFY SETTING {_DURABLE_INSERTS}"
        if not self.cluster:
            return [create, durable]
        distributed = (
            f"CREATE TABLE IF NOT EXISTS {self.table(name)}{self._on_cluster()} AS {self._local(name)}"
            f" ENGINE = Distributed(`{self.cluster}`, `{self.database}`, `{name}_local`, {shard_key})"
        )
        return [create, durable, distributed]
