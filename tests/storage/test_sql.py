"""What only the sql plug-in does: retention, a file that outlives the process, and its options."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from backend.core.binding import ConfigError
from backend.storage.api import Storage, StorageError, TraceQuery
from backend.storage.factory import create_storage
from tests.builders import SpanSpec, batch_of
from tests.storage.conftest import STORAGE_KINDS

HOUR = 3_600_000_000_000
NOW = 1_800_000_000_000_000_000


@pytest.fixture(params=["sqlite", "postgres"])
def sql_setup(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[str, dict[str, Any]]]:  # noqa: ANN001
    kind, options, cleanup = STORAGE_KINDS[request.param](request, tmp_path)
    yield kind, options
    if cleanup is not None:
        cleanup()


def open_storage(setup: tuple[str, dict[str, Any]], **options: Any) -> Storage:
    kind, base = setup
    return create_storage(kind, {**base, **options}, "tests")


def test_purge_removes_spans_older_than_the_retention(sql_setup):
    storage = open_storage(sql_setup, retention="24h")
    old = SpanSpec("driver", "op", start_ns=NOW - 25 * HOUR)
    young = SpanSpec("driver", "op", start_ns=NOW - 23 * HOUR)
    storage.writer().write(batch_of([old, old.child("route", "op"), young]))

    removed = storage.purge_expired(NOW)

    assert removed == 2
    assert storage.reader().get_trace(old.trace_id) is None
    assert storage.reader().find_trace_ids(TraceQuery(service="driver")) == [young.trace_id]
    storage.close()


def test_purge_keeps_services_and_operations(sql_setup):
    storage = open_storage(sql_setup, retention="1h")
    storage.writer().write(batch_of([SpanSpec("driver", "op", start_ns=NOW - 2 * HOUR)]))

    storage.purge_expired(NOW)

    assert storage.reader().get_services() == ["driver"]
    storage.close()


def test_a_zero_retention_keeps_spans_forever(sql_setup):
    storage = open_storage(sql_setup, retention=0)
    ancient = SpanSpec("driver", "op", start_ns=NOW - 10_000 * HOUR)
    storage.writer().write(batch_of([ancient]))

    assert storage.purge_expired(NOW) == 0
    assert storage.reader().get_trace(ancient.trace_id) is not None
    storage.close()


def test_spans_survive_reopening_the_database(sql_setup):
    first = open_storage(sql_setup)
    root = SpanSpec("driver", "op")
    first.writer().write(batch_of([root]))
    first.close()

    second = open_storage(sql_setup)

    assert second.reader().get_services() == ["driver"]
    assert second.reader().get_trace(root.trace_id).spans[0].name == "op"
    second.close()


def test_two_storages_on_one_database_see_each_others_writes(sql_setup):
    collector, other = open_storage(sql_setup), open_storage(sql_setup)
    collector.writer().write(batch_of([SpanSpec("driver", "op")]))
    other.writer().write(batch_of([SpanSpec("route", "op")]))
    spec = SpanSpec("customer", "op")
    collector.writer().write(batch_of([spec]))

    assert other.reader().get_services() == ["customer", "driver", "route"]
    assert other.reader().get_trace(spec.trace_id).spans[0].service == "customer"
    collector.close()
    other.close()


def test_the_sqlite_file_folder_is_created(tmp_path):
    storage = create_storage("sql", {"url": f"sqlite:///{tmp_path}/a/b/traces.db"}, "tests")

    assert (tmp_path / "a" / "b" / "traces.db").exists()
    storage.close()


def test_an_in_memory_sqlite_database_is_refused():
    with pytest.raises(ConfigError, match=r"tests.url: an in-memory SQLite database.*use the memory kind"):
        create_storage("sql", {"url": "sqlite://"}, "tests")


def test_a_malformed_url_is_a_config_error():
    with pytest.raises(ConfigError, match=r"tests.url: not a database URL"):
        create_storage("sql", {"url": "not a url"}, "tests")


def test_a_schema_needs_postgresql(tmp_path):
    with pytest.raises(ConfigError, match=r"tests.schema: a schema is only supported with PostgreSQL"):
        create_storage("sql", {"url": f"sqlite:///{tmp_path}/t.db", "schema": "x"}, "tests")


def test_a_negative_retention_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="retention must not be negative"):
        create_storage("sql", {"url": f"sqlite:///{tmp_path}/t.db", "retention": "-1h"}, "tests")


def test_an_unreachable_database_is_a_storage_error_without_the_password(refusing_port: int):
    url = f"postgresql+psycopg://postgres:secret@127.0.0.1:{refusing_port}/test"
    with pytest.raises(StorageError, match="cannot prepare the trace database") as raised:
        create_storage("sql", {"url": url}, "tests")

    assert "secret" not in str(raised.value)


def test_a_batch_of_an_uneven_size_is_stored_whole_and_a_repeated_span_once(sql_setup):
    storage = open_storage(sql_setup)
    roots = [SpanSpec("driver", "op", start_ns=NOW - i) for i in range(700)]
    specs = [spec for root in roots for spec in (root, root.child("route", "a"), root.child("route", "b"))]
    batch = batch_of(specs)
    batch.spans.append(batch.spans[5])  # re-delivered in the same batch: 2,101 spans, several statements on SQLite

    storage.writer().write(batch)

    reader = storage.reader()
    assert [len(reader.get_trace(root.trace_id).spans) for root in roots] == [3] * len(roots)
    storage.close()


def test_a_failed_first_postgres_batch_leaves_its_pooled_connection_able_to_write(request, tmp_path):
    """A rolled-back first batch also rolls back the temporary staging table it created.

    The connection goes back to the pool; the next batch on it must create the table again
    rather than believe it exists and fail with "relation does not exist" for ever after.
    """
    kind, options, cleanup = STORAGE_KINDS["postgres"](request, tmp_path)
    storage = create_storage(kind, {**options, "pool_size": 1}, "tests")
    try:
        first, second = batch_of([SpanSpec("driver", "op")]), batch_of([SpanSpec("driver", "op")])
        first.spans[0] = replace(first.spans[0], start_ns=2**63)  # past BIGINT: the COPY fails mid-transaction
        with pytest.raises(StorageError):
            storage.writer().write(first)
        storage.writer().write(second)
        assert storage.reader().get_trace(second.spans[0].trace_id) is not None
    finally:
        storage.close()
        cleanup()
