"""The same demo on a real PostgreSQL and a real Redis (TEST_DATABASE_URL, TEST_REDIS_URL), not the embedded ones."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
import sqlalchemy

from tests.hotrod.conftest import FAST
from tests.hotrod.launcher import HotrodAll, find_trace, start_hotrod_all, trace_id_of
from tests.support import DATABASE_URL

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def on_real_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HotrodAll]:
    """``hotrod all`` with customers in a schema of its own and drivers under a key prefix of its own."""
    tag = f"hotrod_test_{uuid.uuid4().hex[:10]}"
    engine = sqlalchemy.create_engine(DATABASE_URL)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{tag}"'))
    separator = "&" if "?" in DATABASE_URL else "?"
    database_url = f"{DATABASE_URL}{separator}options=-csearch_path%3D{tag}"
    client = redis.Redis.from_url(REDIS_URL)
    running = start_hotrod_all(
        Path(tmp_path_factory.mktemp("hotrod-real")),
        *FAST,
        "--skip-check",
        f"--database-url={database_url}",
        f"--redis-url={REDIS_URL}",
        f"--redis-key-prefix={tag}:",
    )
    try:
        yield running
    finally:
        assert running.stop() == 0, running.stderr_text()
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f'DROP SCHEMA "{tag}" CASCADE'))
        engine.dispose()
        keys = list(client.scan_iter(f"{tag}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def tags(span: dict) -> dict:
    return {t["key"]: t["value"] for t in span["tags"]}


def test_a_dispatch_reads_postgresql_and_redis(on_real_servers: HotrodAll) -> None:
    reply = requests.get(f"{on_real_servers.frontend}/dispatch", params={"customer": 567}, timeout=30)
    assert reply.status_code == 200, reply.text
    assert reply.json()["customer_name"] == "Amazing Coffee Roasters"
    trace = find_trace(on_real_servers.query, trace_id_of(reply), {"frontend", "customer", "driver", "route"})
    systems = {tags(s).get("db.system") for s in trace["spans"]}
    assert {"postgresql", "redis"} <= systems
    sql = [
        s
        for s in trace["spans"]
        if tags(s).get("db.system") == "postgresql" and "pg_sleep" in tags(s).get("db.statement", "")
    ]
    assert sql, "the slow query should run inside PostgreSQL"
    redis_peers = {tags(s).get("net.peer.name") for s in trace["spans"] if tags(s).get("db.system") == "redis"}
    assert redis_peers == {"127.0.0.1"}


def test_unknown_customers_are_404_on_postgresql_too(on_real_servers: HotrodAll) -> None:
    reply = requests.get(f"{on_real_servers.frontend}/dispatch", params={"customer": 1}, timeout=30)
    assert reply.status_code == 404
