"""Metric history survives a restart of the backend: kept in the storage's database (SQL, Redis, Redis Cluster)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.builders import SpanSpec
from tests.redis_cluster import LocalCluster
from tests.spm.conftest import unique
from tests.storage.redis_setup import delete_prefix
from tests.support import DATABASE_URL, drop_schema

WINDOW = {"ratePer": 600_000, "lookback": 60_000, "step": 60_000}


@pytest.fixture
def postgres_schema() -> Iterator[tuple[str, str]]:
    schema = f"spm_test_{uuid.uuid4().hex[:10]}"
    yield DATABASE_URL, schema
    drop_schema(schema)


def calls_after_restart(start_backend, storage: str, url: str, extra: dict) -> float:
    service = unique("kept")
    first = start_backend(storage, url, extra)
    first.send([SpanSpec(service, "GET /kept") for _ in range(12)])
    first.calls_counted(service, 12)
    first.service.shutdown()
    second = start_backend(storage, url, extra)
    (series,) = second.metrics("calls", service=service, **WINDOW).json()["metrics"]
    return series["metricPoints"][-1]["gaugeValue"]["doubleValue"] * 600


def test_sqlite_history_survives_a_restart(start_backend, tmp_path: Path) -> None:
    assert calls_after_restart(start_backend, "sqlite", f"sqlite:///{tmp_path / 'traces.db'}", {}) == pytest.approx(12)


def test_postgresql_history_survives_a_restart(start_backend, postgres_schema: tuple[str, str]) -> None:
    url, schema = postgres_schema
    extra = {"extensions.jaeger_storage.backends.main.sql.schema": schema}
    assert calls_after_restart(start_backend, "postgresql", url, extra) == pytest.approx(12)


def test_redis_history_survives_a_restart(start_backend) -> None:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"spm-test-{uuid.uuid4().hex[:10]}"
    try:
        extra = {"extensions.jaeger_storage.backends.main.redis.prefix": prefix}
        assert calls_after_restart(start_backend, "redis", url, extra) == pytest.approx(12)
    finally:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()


def test_redis_cluster_history_survives_a_restart(start_backend, redis_cluster: LocalCluster) -> None:
    prefix = f"spm-test-{uuid.uuid4().hex[:10]}"
    try:
        extra = {"extensions.jaeger_storage.backends.main.redis.prefix": prefix}
        assert calls_after_restart(start_backend, "redis", redis_cluster.url, extra) == pytest.approx(12)
    finally:
        delete_prefix(prefix, redis_cluster.url)


def test_spans_after_a_restart_add_to_the_same_bucket_without_double_counting(start_backend, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'traces.db'}"
    service = unique("again")
    hourly = {"processors.spanmetrics.resolution": "1h"}
    first = start_backend("sqlite", url, hourly)
    first.send([SpanSpec(service, "GET /a") for _ in range(3)])
    first.calls_counted(service, 3)
    first.service.shutdown()
    second = start_backend("sqlite", url, hourly)
    second.send([SpanSpec(service, "GET /a") for _ in range(2)])
    second.calls_counted(service, 5)
    second.service.shutdown()
    third = start_backend("sqlite", url, hourly)
    (series,) = third.metrics("calls", service=service, **WINDOW).json()["metrics"]
    assert series["metricPoints"][-1]["gaugeValue"]["doubleValue"] * 600 == pytest.approx(5)
