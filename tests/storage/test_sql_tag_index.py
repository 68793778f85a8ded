"""The sql plug-in's tag index: what it holds, when the reader trusts it, and what its options refuse.

That searches answer the same with and without it is the conformance suite's job
(``sqlite-tag-index`` and ``postgres`` run it with the suite's keys listed).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy

from backend.core.binding import ConfigError
from backend.storage.api import Storage
from backend.storage.factory import create_storage
from tests.builders import SpanSpec
from tests.storage.conformance import BASE, find, store
from tests.storage.conftest import STORAGE_KINDS

HOUR = 3_600_000_000_000


@pytest.fixture(params=["sqlite", "postgres"])
def sql_setup(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[str, dict[str, Any]]]:  # noqa: ANN001
    kind, options, cleanup = STORAGE_KINDS[request.param](request, tmp_path)
    yield kind, {key: value for key, value in options.items() if key != "index"}
    if cleanup is not None:
        cleanup()


def open_storage(setup: tuple[str, dict[str, Any]], **options: Any) -> Storage:
    kind, base = setup
    return create_storage(kind, {**base, **options}, "tests")


def run_sql(setup: tuple[str, dict[str, Any]], statement: str) -> Any:
    """``statement`` on the storage's database through an engine of the test's own, ``{t}`` naming its tag table."""
    _kind, options = setup
    schema = options.get("schema")
    engine = sqlalchemy.create_engine(options["url"], poolclass=sqlalchemy.NullPool)
    try:
        with engine.begin() as connection:
            return connection.exec_driver_sql(
                statement.format(t=f'"{schema}".span_tag_index' if schema else "span_tag_index")
            ).all()
    finally:
        engine.dispose()


def index_rows(setup: tuple[str, dict[str, Any]]) -> int:
    return int(run_sql(setup, "SELECT count(*) FROM {t}")[0][0])


def test_each_listed_key_of_a_span_its_events_and_links_gets_one_row_per_text(sql_setup):
    storage = open_storage(sql_setup, index={"tag_whitelist": ["customer", "attempt", "ratio"]})
    span = SpanSpec(
        "driver",
        "op",
        attributes={"customer": "123", "unlisted": "x", "ratio": 2.0},  # 2.0 reads as "2.0" and "2"
        events=[("retry", 10, {"attempt": 3})],
    )
    store(storage, span)

    assert index_rows(sql_setup) == 4
    storage.close()


def test_a_search_for_a_listed_tag_takes_its_candidates_from_the_index(sql_setup):
    storage = open_storage(sql_setup, index={"tag_whitelist": ["customer"]})
    stored = SpanSpec("driver", "op", attributes={"customer": "123"})
    store(storage, stored)
    assert find(storage, service="driver", tags={"customer": "123"}) == [stored.trace_id]

    run_sql(sql_setup, "DELETE FROM {t} RETURNING 1")  # what the index holds is what the search can find

    assert find(storage, service="driver", tags={"customer": "123"}) == []
    storage.close()


def test_an_unlisted_key_is_searched_by_scanning_the_window(sql_setup):
    storage = open_storage(sql_setup, index={"tag_whitelist": ["customer"]})
    wanted = SpanSpec("driver", "op", attributes={"other": "1"})
    store(storage, wanted)

    assert find(storage, service="driver", tags={"other": "1"}) == [wanted.trace_id]
    assert index_rows(sql_setup) == 0
    storage.close()


def test_a_key_listed_once_spans_are_stored_is_trusted_only_for_later_windows(sql_setup):
    first = open_storage(sql_setup, index={"tag_whitelist": ["customer"]})
    earlier = SpanSpec("driver", "op", start_ns=BASE, attributes={"driver.id": "T7"})
    store(first, earlier)
    first.close()
    second = open_storage(sql_setup, index={"tag_whitelist": ["customer", "driver.id"]})

    assert find(second, service="driver", tags={"driver.id": "T7"}, start_min_ns=BASE - HOUR) == [earlier.trace_id]
    second.close()


def test_a_value_a_resource_carries_is_found_although_the_index_has_no_row(sql_setup):
    storage = open_storage(sql_setup, index={"tag_whitelist": ["customer"]})
    wanted = SpanSpec("driver", "op", resource={"customer": "7"})
    store(storage, wanted, SpanSpec("driver", "op", resource={"customer": "8"}))

    assert find(storage, service="driver", tags={"customer": "7"}) == [wanted.trace_id]
    storage.close()


def test_tags_false_writes_no_index(sql_setup):
    storage = open_storage(sql_setup, index={"tags": False, "tag_whitelist": ["customer"]})
    wanted = SpanSpec("driver", "op", attributes={"customer": "123"})
    store(storage, wanted)

    assert index_rows(sql_setup) == 0
    assert find(storage, service="driver", tags={"customer": "123"}) == [wanted.trace_id]
    storage.close()


def test_the_retention_purge_removes_old_index_rows(sql_setup):
    storage = open_storage(sql_setup, retention="1h", index={"tag_whitelist": ["customer"]})
    store(storage, SpanSpec("driver", "op", start_ns=BASE - 2 * HOUR, attributes={"customer": "1"}))
    store(storage, SpanSpec("driver", "op", start_ns=BASE + HOUR, attributes={"customer": "2"}))

    storage.purge_expired(BASE + HOUR)

    assert index_rows(sql_setup) == 1
    storage.close()


@pytest.mark.parametrize(
    ("index", "message"),
    [
        ({"tag_whitelist": ["error"]}, "kind or status"),
        ({"tag_whitelist": [""]}, "empty key"),
        ({"tag_whitelist": "customer"}, "expected a list"),
    ],
)
def test_a_tag_whitelist_that_cannot_be_indexed_is_a_config_error(tmp_path, index, message):
    with pytest.raises(ConfigError, match=message):
        create_storage("sql", {"url": f"sqlite:///{tmp_path}/t.db", "index": index}, "tests")


def test_a_listed_key_longer_than_127_bytes_is_indexed(sql_setup):
    long_key = "k" * 200  # its length takes two bytes on the wire
    storage = open_storage(sql_setup, index={"tag_whitelist": [long_key]})
    store(storage, SpanSpec("driver", "op", attributes={long_key: "v"}))

    assert index_rows(sql_setup) == 1
    storage.close()


def test_a_process_that_only_reads_lists_no_key_the_writers_do_not_index(sql_setup):
    reader = open_storage(sql_setup, index={"tag_whitelist": ["driver.id"]})  # e.g. a query-only process
    writer = open_storage(sql_setup, index={"tag_whitelist": ["customer"]})
    wanted = SpanSpec("driver", "op", attributes={"driver.id": "T7"})
    store(writer, wanted)

    assert find(reader, service="driver", tags={"driver.id": "T7"}) == [wanted.trace_id]
    reader.close()
    writer.close()


def test_an_index_written_before_rows_held_their_service_is_dropped_and_its_keys_restart(tmp_path):
    url = f"sqlite:///{tmp_path}/t.db"
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.NullPool)
    with engine.begin() as connection:  # the earlier layout, claiming every customer span since 0 is indexed
        connection.exec_driver_sql("CREATE TABLE span_tags (hash BIGINT, start_ns BIGINT, trace_id BLOB, span_id BLOB)")
        connection.exec_driver_sql("CREATE TABLE tag_index_keys (key VARCHAR PRIMARY KEY, since_ns BIGINT)")
        connection.exec_driver_sql("INSERT INTO tag_index_keys VALUES ('customer', 0)")
    storage = create_storage("sql", {"url": url, "index": {"tag_whitelist": ["customer"]}}, "tests")
    store(storage, SpanSpec("driver", "op", attributes={"customer": "1"}))

    tables = set(sqlalchemy.inspect(engine).get_table_names())
    assert {"span_tags", "tag_index_keys"}.isdisjoint(tables)
    assert {"span_tag_index", "span_tag_keys"} <= tables
    storage.close()
    engine.dispose()
