"""The storages a fault test is run against, each with its own way of going down and coming back.

Any storage plug-in can be put through tests/faults: give it a ``Target`` here (how the backend is
told to use it, how the check reads it back, how it goes down and up) and add its name to the
``target`` parameters of the tests.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.backend.conftest import Launcher
from tests.faults.servers import PrivatePostgres, PrivateRedis, chdb_unwritable, sqlite_unwritable

_REDIS_DBS = itertools.count(1)


@dataclass
class Target:
    name: str
    kind: str  # the storage plug-in
    options: dict[str, Any]  # its options, for reading back what was stored
    flags: list[str]  # for `hotrod backend`
    down: Callable[[], None]
    up: Callable[[], None]
    database: Path | None = None  # SQLite's file
    held: bool = False  # one process holds the storage (embedded chDB): the check reads through the query API
    is_down: bool = field(default=False)

    def go_down(self) -> None:
        self.down()
        self.is_down = True

    def come_up(self) -> None:
        self.up()
        self.is_down = False


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    yield server
    server.close()


@pytest.fixture(scope="module")
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    yield server
    server.close()


@pytest.fixture
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    made: Target
    if request.param == "sqlite":
        database = tmp_path / "db" / "traces.db"
        database.parent.mkdir()
        made = Target(
            "sqlite", "sql", {"url": f"sqlite:///{database}"},
            ["--storage", "sqlite", "--storage-url", f"sqlite:///{database}"],
            lambda: sqlite_unwritable(database, True), lambda: sqlite_unwritable(database, False), database,
        )  # fmt: skip
    elif request.param == "postgres":
        server: Any = request.getfixturevalue("private_postgres")
        schema = f"faults_{uuid.uuid4().hex[:8]}"
        made = Target(
            "postgres", "sql", {"url": server.url, "schema": schema},
            ["--storage", "postgres", "--storage-url", server.url,
             "--set", f"extensions.jaeger_storage.backends.main.sql.schema={schema}"],
            server.stop, server.start,
        )  # fmt: skip
    elif request.param == "clickhouse":
        folder = tmp_path / "data" / "clickhouse"  # `hotrod backend --storage clickhouse` keeps it here
        made = Target(
            "clickhouse", "clickhouse", {"path": str(folder)}, ["--storage", "clickhouse"],
            lambda: chdb_unwritable(folder, True), lambda: chdb_unwritable(folder, False), held=True,
        )  # fmt: skip
    else:
        server = request.getfixturevalue("private_redis")
        url = f"{server.url[: server.url.rindex('/')]}/{next(_REDIS_DBS) % 16}"
        made = Target(
            "redis", "redis", {"url": url}, ["--storage", "redis", "--storage-url", url], server.stop, server.start
        )
    yield made
    if made.is_down:  # a failed test must not leave a server stopped or a folder immutable
        made.come_up()


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    started = Launcher(tmp_path)
    yield started
    started.close()
