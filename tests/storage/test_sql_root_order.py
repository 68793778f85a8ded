"""The sql plug-in's ``root`` order compares names as Python does (code points), even under a locale's collation.

The suite's PostgreSQL database compares text by code point (C.UTF-8), so the conformance
case cannot tell a locale-independent ORDER BY from one that is not; here the name columns
are given ICU's English collation, which sorts "Ärger" < "customer" < "Zeta".
"""

from __future__ import annotations

import time

import sqlalchemy

from backend.storage.api import TraceQuery
from backend.storage.factory import create_storage
from tests.builders import SpanSpec, batch_of
from tests.storage.conftest import DATABASE_URL, STORAGE_KINDS

SECOND = 1_000_000_000


def test_roots_sort_by_code_point_where_the_name_columns_sort_by_locale(request, tmp_path):
    kind, options, cleanup = STORAGE_KINDS["postgres"](request, tmp_path)
    storage = create_storage(kind, options, "tests")
    engine = sqlalchemy.create_engine(DATABASE_URL, poolclass=sqlalchemy.NullPool)
    try:
        start = time.time_ns() - 600 * SECOND
        roots = [
            SpanSpec(name, "op", start_ns=start + i * SECOND) for i, name in enumerate(["customer", "Zeta", "Ärger"])
        ]
        storage.writer().write(batch_of([*roots, *(root.child("driver", "find") for root in roots)]))
        schema = options["schema"]
        with engine.begin() as connection:
            for table in ("services", "operations"):
                connection.exec_driver_sql(
                    f'ALTER TABLE "{schema}".{table} ALTER COLUMN name TYPE varchar COLLATE "en-x-icu"'
                )
            by_locale = connection.exec_driver_sql(f'SELECT name FROM "{schema}".services ORDER BY name').scalars()
            assert list(by_locale) == ["Ärger", "customer", "driver", "Zeta"]

        _, page = storage.reader().search_summaries(TraceQuery(service="driver"), "root", 0, 10)

        assert [summary.root_service for summary in page] == ["Zeta", "customer", "Ärger"]
    finally:
        storage.close()
        engine.dispose()
        if cleanup is not None:
            cleanup()
