"""What the clickhouse plug-in adds beyond the conformance suite: its options, its DDL, its engine rules."""

from __future__ import annotations

import dataclasses
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest

from backend.core.binding import ConfigError
from backend.storage.api import AttributeFilter, Storage, StorageError, TraceQuery
from backend.storage.clickhouse.engine import Embedded
from backend.storage.clickhouse.filters import where
from backend.storage.clickhouse.reader import NO_JIT
from backend.storage.clickhouse.schema import Layout
from backend.storage.clickhouse.store import ClickHouseStorage
from backend.storage.clickhouse.writer import CHUNK_SPANS
from backend.storage.factory import create_storage
from tests.builders import SpanSpec, batch_of

pytest.importorskip("chdb")


def test_the_optional_tag_index_serves_the_same_attribute_search(clickhouse_folder: Path):
    options = {"path": str(clickhouse_folder), "database": f"tags_{uuid.uuid4().hex[:8]}", "tag_index": True}
    storage = create_storage("clickhouse", options, "tests")
    try:
        wanted = SpanSpec("driver", "op", attributes={"driver.id": "T7"})
        storage.writer().write(batch_of([wanted, SpanSpec("driver", "op", attributes={"driver.id": "T8"})]))

        assert storage.reader().find_trace_ids(TraceQuery(tags={"driver.id": "T7"})) == [wanted.trace_id]
    finally:
        storage.close()


def test_a_processes_table_of_an_earlier_version_takes_scope_attributes(clickhouse_folder: Path):
    """Tables are created only when missing, so the scope columns added since are added to an old table."""
    database = f"old_{uuid.uuid4().hex[:8]}"
    engine = Embedded(str(clickhouse_folder), "tests")
    try:
        engine.command(f"CREATE DATABASE `{database}`")
        engine.command(
            f"CREATE TABLE `{database}`.`processes` (id String, blob String, resource_keys Array(String),"
            " resource_values Array(String)) ENGINE = ReplacingMergeTree ORDER BY id"
        )
    finally:
        engine.close()
    storage = create_storage("clickhouse", {"path": str(clickhouse_folder), "database": database}, "tests")
    try:
        wanted = SpanSpec("driver", "op", scope_attributes={"library.tier": "gold"})
        storage.writer().write(batch_of([wanted]))

        assert storage.reader().find_trace_ids(TraceQuery(tags={"library.tier": "gold"})) == [wanted.trace_id]
    finally:
        storage.close()


def _granules_read(storage: ClickHouseStorage, query: TraceQuery, database: str) -> tuple[int, int]:
    """(granules read, granules in the table) for the reader's search of ``query``, by the engine's own plan."""
    condition = where(query, storage.reader().processes_with)
    plan = storage._connection.arrow(  # noqa: SLF001 - the plan is the evidence
        f"EXPLAIN indexes = 1 SELECT trace_id FROM `{database}`.`spans` WHERE {condition.sql}", condition.params
    )
    lines = [line.decode().strip() for line in plan.column(0).to_pylist()]
    bloom = lines.index("Name: tag_pairs_bloom")
    read, _, total = next(line for line in lines[bloom:] if line.startswith("Granules:")).split()[1].partition("/")
    return int(read), int(total)


@pytest.mark.parametrize("old_table", [False, True], ids=["new table", "table of an earlier version"])
def test_a_tag_search_skips_the_granules_whose_bloom_filter_lacks_its_pair(clickhouse_folder: Path, old_table: bool):
    """The ``tag_pairs_bloom`` index (docs/clickhouse.md, "Attribute search"): granules without the pair are not read.

    One span a granule (``index_granularity = 1``), so each granule's filter holds one span's pairs.
    """
    database = f"bloom_{uuid.uuid4().hex[:8]}"
    options = {"path": str(clickhouse_folder), "database": database}
    storage = create_storage("clickhouse", options, "tests")
    try:
        spans_ddl = next(sql for sql in Layout(database).statements() if f"`{database}`.`spans` (" in sql)
        if old_table:  # as created before the filter: it is added by the next start's ALTER
            older = spans_ddl.replace(",\n                INDEX tag_pairs_bloom", "\n--")
            assert older != spans_ddl
            spans_ddl = older
        connection = cast(ClickHouseStorage, storage)._connection  # noqa: SLF001 - the test sets the table up
        connection.command(f"DROP TABLE `{database}`.`spans`")
        connection.command(f"{spans_ddl} SETTINGS index_granularity = 1")
    finally:
        storage.close()
    storage = create_storage("clickhouse", options, "tests")
    try:
        specs = [SpanSpec("driver", "op", attributes={"driver.id": f"T{number}"}) for number in range(8)]
        storage.writer().write(batch_of(specs))

        query = TraceQuery(tags={"driver.id": "T3"})
        assert storage.reader().find_trace_ids(query) == [specs[3].trace_id]
        read, total = _granules_read(cast(ClickHouseStorage, storage), query, database)
        assert total == 8
        assert read < 4  # the one that has it, and what the filter's 1% false positives let through
    finally:
        storage.close()


def test_a_tag_search_reads_the_span_texts_before_it_joins_keys_to_texts(clickhouse_folder: Path):
    """The engine's own order put the key/text pair test first, over every span of the granules read; the
    reader's ``PREWHERE`` on the texts alone leaves it only the spans that have the text (docs/clickhouse.md)."""
    with _fresh(clickhouse_folder, "prewhere") as (storage, database):
        storage.writer().write(batch_of([SpanSpec("driver", "op", attributes={"driver.id": "T3"})]))
        clickhouse = cast(ClickHouseStorage, storage)
        condition = where(TraceQuery(service="driver", tags={"driver.id": "T3"}), clickhouse.reader().processes_with)
        plan = clickhouse._connection.arrow(  # noqa: SLF001 - the plan is the evidence
            f"EXPLAIN indexes = 1 SELECT trace_id FROM `{database}`.`spans` {condition.clauses()}", condition.params
        )
        lines = [line.decode().strip() for line in plan.column(0).to_pylist()]

        assert [line for line in lines if line.startswith("Prewhere filter column:")] == [
            "Prewhere filter column:  has(tag_values, 'T3')"
        ]


@pytest.mark.parametrize(
    ("query", "prewhere"),
    [
        (TraceQuery(service="driver"), ""),
        (TraceQuery(tags={"driver.id": "T7"}), "(has(tag_values, {text0:String}))"),
        (TraceQuery(tags={"span.kind": "server"}), "(has(tag_values, {text0:String}) OR kind = 2)"),
        (TraceQuery(tags={"host.name": "h1"}), "(has(tag_values, {text0:String}) OR process_id IN (unhex('70')))"),
        (
            TraceQuery(attribute_filters=(AttributeFilter("host.name", "h1", "resource"),)),
            "(process_id IN (unhex('70')))",
        ),
        (
            TraceQuery(attribute_filters=(AttributeFilter("driver.id", "T7", "span"),)),
            "(has(tag_values, {attribute_text0:String}))",
        ),
    ],
)
def test_a_tag_prewhere_keeps_every_option_a_span_can_match_by(query: TraceQuery, prewhere: str):
    """A span found by a derived field or by its process has no such text, so those options stay in the prewhere."""
    assert where(query, lambda key, text, levels: [b"p"] if key == "host.name" else []).prewhere == prewhere


def test_a_spans_table_of_an_earlier_version_takes_the_attribute_texts_codec_without_a_rewrite(clickhouse_folder: Path):
    """``tag_values`` at ZSTD(3) (docs/clickhouse.md, "Attribute search"): an older table's column takes the codec at
    the next start as a change of metadata, so its parts are not rewritten (no mutation) and stay readable."""
    database = f"codec_{uuid.uuid4().hex[:8]}"
    options = {"path": str(clickhouse_folder), "database": database}
    storage = create_storage("clickhouse", options, "tests")
    try:
        spans_ddl = next(sql for sql in Layout(database).statements() if f"`{database}`.`spans` (" in sql)
        older = spans_ddl.replace("tag_values Array(String) CODEC(ZSTD(3))", "tag_values Array(String) CODEC(ZSTD(1))")
        assert older != spans_ddl
        connection = cast(ClickHouseStorage, storage)._connection  # noqa: SLF001 - the test sets the table up
        connection.command(f"DROP TABLE `{database}`.`spans`")
        connection.command(older)
        wanted = SpanSpec("driver", "op", attributes={"driver.id": "T7"})
        storage.writer().write(batch_of([wanted]))
    finally:
        storage.close()
    storage = create_storage("clickhouse", options, "tests")
    try:
        codec = _rows(
            storage,
            f"SELECT compression_codec FROM system.columns WHERE database = '{database}' AND table = 'spans'"
            " AND name = 'tag_values'",
        )
        assert codec == [{"compression_codec": b"CODEC(ZSTD(3))"}]
        assert _rows(storage, f"SELECT mutation_id FROM system.mutations WHERE database = '{database}'") == []
        assert storage.reader().find_trace_ids(TraceQuery(tags={"driver.id": "T7"})) == [wanted.trace_id]
    finally:
        storage.close()


@pytest.mark.parametrize(
    ("query", "exact"),
    [
        (TraceQuery(tags={"driver.id": "T7"}), True),
        (TraceQuery(attribute_filters=(AttributeFilter("host.name", "h1", "resource"),)), True),
        (TraceQuery(attribute_filters=(AttributeFilter("library.tier", "gold", "scope"),)), True),
        (TraceQuery(attribute_filters=(AttributeFilter("driver.id", "T7", "span"),)), False),
        (TraceQuery(attribute_filters=(AttributeFilter("driver.id", "T7", "link"),)), False),
        (TraceQuery(attribute_filters=(AttributeFilter("driver.id", "T7"),)), False),
    ],
)
def test_only_span_event_and_link_levels_are_confirmed_on_payloads(query: TraceQuery, exact: bool):
    """Tags and resource/scope filters are answered by the column scan alone (docs/clickhouse.md)."""
    assert where(query, lambda key, text, levels: []).exact is exact


def test_the_cluster_layout_is_clickhouse_sql(clickhouse_folder: Path):
    """The Replicated + Distributed DDL of docs/clickhouse.md parses (no cluster here to run it on)."""
    engine = Embedded(str(clickhouse_folder), "tests")
    try:
        for statement in Layout("jaeger", retention_s=3600, cluster="traces", tag_index=True).statements():
            engine.command(f"EXPLAIN AST {statement}")
    finally:
        engine.close()


def test_a_second_data_folder_in_one_process_is_refused(clickhouse_folder: Path, tmp_path: Path):
    with pytest.raises(StorageError, match="one data folder per process"):
        create_storage("clickhouse", {"path": str(tmp_path / "other")}, "tests")


def test_a_cluster_without_a_server_is_a_config_error():
    with pytest.raises(ConfigError, match="cluster needs a server url"):
        create_storage("clickhouse", {"cluster": "traces"}, "tests")


def test_a_server_that_does_not_answer_is_a_clear_error(tmp_path: Path):
    options = {"url": "http://127.0.0.1:9", "sampling_url": f"sqlite:///{tmp_path / 's.db'}"}
    with pytest.raises(StorageError, match=r"cannot reach ClickHouse at http://127\.0\.0\.1:9"):
        create_storage("clickhouse", options, "tests")


def test_a_url_where_something_else_answers_is_not_reported_as_unreachable(tmp_path: Path):
    """E.g. a ClickHouse too old for the driver (Debian's 18.16.1 fails its first query), or the wrong port."""
    other = ThreadingHTTPServer(("127.0.0.1", 0), SimpleHTTPRequestHandler)  # a web server, not ClickHouse
    threading.Thread(target=other.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{other.server_port}"
    try:
        with pytest.raises(StorageError, match=rf"^{re.escape(url)} answered, but not as a ClickHouse server") as error:
            create_storage("clickhouse", {"url": url, "sampling_url": f"sqlite:///{tmp_path / 's.db'}"}, "tests")
    finally:
        other.shutdown()
        other.server_close()
    assert "cannot reach" not in str(error.value)


@contextmanager
def _fresh(folder: Path, prefix: str) -> Iterator[tuple[Storage, str]]:
    """A storage on a database of its own in the shared engine folder, and that database's name."""
    database = f"{prefix}_{uuid.uuid4().hex[:8]}"
    storage = create_storage("clickhouse", {"path": str(folder), "database": database}, "tests")
    try:
        yield storage, database
    finally:
        storage.close()


def _rows(storage: Storage, sql: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = cast(ClickHouseStorage, storage)._connection.arrow(sql).to_pylist()  # noqa: SLF001
    return rows


def test_a_database_of_an_earlier_version_loses_its_views_and_gets_each_trace_window_once(clickhouse_folder: Path):
    """The writer fills ``trace_times`` and ``operations`` itself; the views an earlier version made are dropped at
    start, or every span would be counted twice in them."""
    database = f"views_{uuid.uuid4().hex[:8]}"
    options = {"path": str(clickhouse_folder), "database": database}
    storage = create_storage("clickhouse", options, "tests")
    try:
        connection = cast(ClickHouseStorage, storage)._connection  # noqa: SLF001 - the test sets the tables up
        connection.command(
            f"CREATE MATERIALIZED VIEW `{database}`.`trace_times_mv` TO `{database}`.`trace_times` AS SELECT trace_id,"
            f" min(start_ns) AS first_ns, max(start_ns + duration_ns) AS last_ns FROM `{database}`.`spans`"
            " GROUP BY trace_id"
        )
    finally:
        storage.close()
    storage = create_storage("clickhouse", options, "tests")
    try:
        now = time.time_ns()
        root = SpanSpec("driver", "op", start_ns=now, duration_ns=500)
        child = SpanSpec("driver", "child", trace_id=root.trace_id, parent=root, start_ns=now + 100, duration_ns=900)
        storage.writer().write(batch_of([root, child]))

        views = _rows(storage, f"SELECT name FROM system.tables WHERE database = '{database}' AND name LIKE '%_mv'")
        assert views == []
        times = _rows(storage, f"SELECT first_ns, last_ns FROM `{database}`.`trace_times`")
        assert times == [{"first_ns": now, "last_ns": now + 1_000}]
    finally:
        storage.close()


def test_operations_already_written_are_not_inserted_again(clickhouse_folder: Path):
    with _fresh(clickhouse_folder, "ops") as (storage, database):
        storage.writer().write(batch_of([SpanSpec("driver", "find"), SpanSpec("driver", "find")]))
        storage.writer().write(batch_of([SpanSpec("driver", "find"), SpanSpec("driver", "fetch")]))

        rows = _rows(storage, f"SELECT name FROM `{database}`.`operations` ORDER BY name")  # without FINAL: as stored
        assert rows == [{"name": b"fetch"}, {"name": b"find"}]  # strings come back as bytes


def test_a_batch_larger_than_a_chunk_of_columns_is_one_part_with_every_span(clickhouse_folder: Path):
    """The writer builds a large batch's columns in chunks and inserts them as one table (writer.py)."""
    with _fresh(clickhouse_folder, "chunks") as (storage, database):
        now = time.time_ns()
        root = SpanSpec("driver", "op", start_ns=now)
        children = [
            SpanSpec("driver", "fetch", trace_id=root.trace_id, parent=root, start_ns=now + number)
            for number in range(CHUNK_SPANS + 10)
        ]
        storage.writer().write(batch_of([root, *children]))

        parts = _rows(storage, f"SELECT count() AS n FROM system.parts WHERE active AND database = '{database}'"
                      " AND table = 'spans'")  # fmt: skip
        assert parts == [{"n": 1}]
        trace = storage.reader().get_trace(root.trace_id)
        assert trace is not None
        assert len(trace.spans) == CHUNK_SPANS + 11


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"\x0a\x05ab", id="a payload cut short"),
        pytest.param(b"", id="an empty payload"),
        pytest.param(SpanSpec("driver", "other").to_proto().SerializeToString(), id="another span's payload"),
    ],
)
def test_a_trace_with_a_payload_that_is_not_its_span_reads_back_by_its_columns(clickhouse_folder: Path, payload: bytes):
    """A lookup rebuilds spans from their payloads (``span_rows``); where one cannot be, its trace's columns say."""
    with _fresh(clickhouse_folder, "payloads") as (storage, _):
        root = SpanSpec("frontend", "GET /dispatch", start_ns=time.time_ns(), status_code=2)
        written = batch_of([root, root.child("customer", "SQL SELECT", kind=3)])
        written.spans[1] = dataclasses.replace(written.spans[1], payload=payload)
        other = SpanSpec("route", "GET /route")
        storage.writer().write(written)
        storage.writer().write(batch_of([other]))

        traces = storage.reader().find_traces(TraceQuery(limit=10))

        by_start = sorted(written.spans, key=lambda record: record.start_ns)
        assert [trace.spans for trace in traces if trace.spans[0].trace_id == root.trace_id] == [by_start]
        assert [len(trace.spans) for trace in traces if trace.spans[0].trace_id == other.trace_id] == [1]


def test_trace_lookups_never_wait_for_the_engine_to_compile_code(clickhouse_folder: Path):
    """ClickHouse compiles a statement shape to machine code on its fourth run (~50 ms, reader.NO_JIT); a trace
    lookup reads a few rows, so its statements run interpreted, the fourth as fast as the others."""
    with _fresh(clickhouse_folder, "jit") as (storage, _):
        specs = [SpanSpec("driver", "op", start_ns=time.time_ns() + number) for number in range(8)]
        storage.writer().write(batch_of(specs))
        before = _compiled(storage)

        reader = storage.reader()
        assert all(reader.get_trace(spec.trace_id) is not None for spec in specs)

        assert _compiled(storage) == before


@pytest.mark.parametrize(
    "query",
    [TraceQuery(tags={"driver.id": "T7"}), TraceQuery(service="driver"), TraceQuery(duration_min_ns=1)],
    ids=["attribute", "service", "duration"],
)
def test_searches_never_wait_for_the_engine_to_compile_code(clickhouse_folder: Path, query: TraceQuery):
    """The fourth run of a search's statement would compile it (~35 ms, reader.NO_JIT) and run no faster after."""
    with _fresh(clickhouse_folder, "jit") as (storage, _):
        storage.writer().write(batch_of([SpanSpec("driver", "op", attributes={"driver.id": "T7"}, duration_ns=5)]))
        before = _compiled(storage)

        reader = storage.reader()
        assert all(len(reader.find_trace_ids(query)) == 1 for _ in range(6))

        assert _compiled(storage) == before


def _compiled(storage: Storage) -> int:
    """Functions the engine has compiled so far, after dropping what it had compiled (this statement runs
    interpreted: it runs more than three times in a test session and would compile itself)."""
    connection = cast(ClickHouseStorage, storage)._connection  # noqa: SLF001 - the engine's counters are the evidence
    connection.command("SYSTEM DROP COMPILED EXPRESSION CACHE")
    rows = connection.arrow(
        "SELECT sum(value) AS n FROM system.events WHERE event = 'CompileFunction'", settings=NO_JIT
    )
    return int(rows.column("n")[0].as_py() or 0)


def test_an_insert_returns_once_its_part_is_synced_to_disk(clickhouse_folder: Path):
    """The exporter lets the persistent queue forget a batch once written: an unsynced part would be lost to a
    power cut, so every table syncs its parts (fsync_after_insert, fsync_part_directory)."""
    with _fresh(clickhouse_folder, "durable") as (storage, _database):
        before = _syncs(storage)
        storage.writer().write(batch_of([SpanSpec("driver", "find")]))

        assert _syncs(storage) > before


def _syncs(storage: Storage) -> int:
    """fsync calls the engine has made (its process-wide ProfileEvents counter)."""
    rows = _rows(storage, "SELECT sum(value) AS n FROM system.events WHERE event IN ('FileSync', 'DirectorySync')")
    return int(rows[0]["n"])
