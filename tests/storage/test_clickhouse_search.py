"""The clickhouse plug-in's search over a time range, newest window first (``reader.newest_first``)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from backend.storage.api import Storage, TraceQuery
from backend.storage.clickhouse.engine import Connection
from backend.storage.clickhouse.reader import ClickHouseReader, newest_first
from backend.storage.factory import create_storage
from tests.builders import SpanSpec, batch_of

pytest.importorskip("chdb")

HOUR = 3_600_000_000_000
BASE = time.time_ns() - 24 * HOUR  # within the default retention


class Counted:
    """The reader's real connection, counting the statements that return rows."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.statements = 0

    def arrow(self, sql: str, params: dict[str, Any] | None = None, settings: dict[str, int] | None = None) -> pa.Table:
        self.statements += 1
        return self.connection.arrow(sql, params, settings)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)


@pytest.fixture
def storage(clickhouse_folder: Path) -> Iterator[Storage]:
    database = f"search_{uuid.uuid4().hex[:8]}"
    storage = create_storage("clickhouse", {"path": str(clickhouse_folder), "database": database}, "tests")
    yield storage
    storage.close()


def hourly(storage: Storage, hours: int) -> list[SpanSpec]:
    """One trace an hour from BASE on, oldest first."""
    specs = [SpanSpec("driver", "op", start_ns=BASE + hour * HOUR) for hour in range(hours)]
    storage.writer().write(batch_of(specs))
    return specs


def test_the_windows_cover_the_range_once_newest_first():
    assert newest_first(0, 1600) == [(1500, 1600), (1200, 1499), (0, 1199)]


def test_an_open_ended_range_is_one_window():
    assert newest_first(None, 1600) == [(-(2**63), 1600)]
    assert newest_first(0, None) == [(0, 2**63 - 1)]


def test_an_empty_range_has_no_window():
    assert newest_first(1600, 0) == []


def test_a_trace_in_several_windows_ranks_by_its_newest_matching_span(storage: Storage):
    specs = hourly(storage, 16)
    old = SpanSpec("driver", "op", start_ns=BASE)  # in the oldest window, and again in the newest
    storage.writer().write(
        batch_of([old, SpanSpec("driver", "op", trace_id=old.trace_id, start_ns=BASE + 15 * HOUR + 1)])
    )
    query = TraceQuery(service="driver", start_min_ns=BASE, start_max_ns=BASE + 16 * HOUR, limit=6)

    found = storage.reader().find_trace_ids(query)

    assert found == [old.trace_id, *[spec.trace_id for spec in reversed(specs)][:5]]


def test_a_search_reads_older_windows_until_it_has_its_limit(storage: Storage):
    specs = hourly(storage, 16)
    # the range ends just before the newest trace
    query = TraceQuery(service="driver", start_min_ns=BASE, start_max_ns=BASE + 15 * HOUR - 1, limit=10)

    found = storage.reader().find_trace_ids(query)

    assert found == [spec.trace_id for spec in reversed(specs)][1:11]


@pytest.mark.parametrize(("limit", "statements"), [(1, 1), (3, 2), (8, 3), (100, 2)])
def test_a_search_stops_at_the_window_that_fills_its_limit(storage: Storage, limit: int, statements: int):
    """17 traces an hour apart over 16 hours: the newest sixteenth holds 2, the newest quarter 5.

    Past the sixteenth, the rest of the quarter is read only when the sixteenth found a quarter of
    the limit (limit 3 and 8); otherwise (limit 100) all the rest at once.
    """
    hourly(storage, 17)
    reader = storage.reader()
    assert isinstance(reader, ClickHouseReader)
    counted = Counted(reader._connection)  # noqa: SLF001 - the statements run are the evidence
    reader._connection = counted  # noqa: SLF001

    found = reader.find_trace_ids(
        TraceQuery(service="driver", start_min_ns=BASE, start_max_ns=BASE + 16 * HOUR, limit=limit)
    )

    assert len(found) == min(limit, 17)
    assert counted.statements == statements
