"""What the redis plug-in adds to the conformance suite: TTL retention and a Cluster-ready key layout."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis
from redis.crc import key_slot

from backend.storage.api import TraceQuery
from backend.storage.factory import create_storage
from backend.storage.redis.store import RedisStorage
from tests.builders import SpanSpec, batch_of
from tests.storage import redis_setup

HOUR_NS = 3_600_000_000_000


@pytest.fixture
def prefix() -> Iterator[str]:
    made = redis_setup.unique_prefix()
    yield made
    redis_setup.delete_prefix(made)


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    made = redis.Redis.from_url(redis_setup.REDIS_URL)
    yield made
    made.close()


def storage_with(prefix: str, retention: str) -> RedisStorage:
    options = {"url": redis_setup.REDIS_URL, "prefix": prefix, "retention": retention}
    made = create_storage("redis", options, "tests")
    assert isinstance(made, RedisStorage)
    return made


def ttl_ms_of_a_new_trace(prefix: str, client: redis.Redis, retention: str) -> int:
    """Milliseconds left to a trace's key right after it is written (-1: it never expires)."""
    storage = storage_with(prefix, retention)
    root = SpanSpec("frontend", "op")
    storage.writer().write(batch_of([root]))
    ttl_ms = client.pttl(f"{prefix}:trace:{{{root.trace_id.hex()}}}")
    storage.close()
    return ttl_ms


def test_a_trace_expires_by_ttl_after_its_last_write(prefix: str, client: redis.Redis):
    assert HOUR_NS // 1_000_000 - 60_000 < ttl_ms_of_a_new_trace(prefix, client, "1h") <= HOUR_NS // 1_000_000


def test_no_retention_keeps_traces_forever(prefix: str, client: redis.Redis):
    assert ttl_ms_of_a_new_trace(prefix, client, "0s") == -1


def test_purge_drops_index_entries_older_than_the_retention(prefix: str):
    storage = storage_with(prefix, "1h")
    now = time.time_ns()
    old = SpanSpec("frontend", "op", start_ns=now - 2 * HOUR_NS)
    recent = SpanSpec("frontend", "op", start_ns=now - HOUR_NS // 2)
    storage.writer().write(batch_of([old, recent]))

    removed = storage.purge_expired(now)
    found = storage.reader().find_trace_ids(TraceQuery(service="frontend"))
    storage.close()

    assert removed == 1
    assert found == [recent.trace_id]


def test_every_key_of_a_trace_hashes_to_one_cluster_slot(prefix: str, client: redis.Redis):
    storage = storage_with(prefix, "1h")
    root = SpanSpec("frontend", "op")
    storage.writer().write(batch_of([root, root.child("driver", "op"), root.child("route", "op")]))
    storage.close()

    trace_keys = list(client.scan_iter(match=f"{prefix}:trace:*"))

    assert len(trace_keys) == 1
    assert key_slot(trace_keys[0]) == key_slot(root.trace_id.hex().encode())


def test_without_a_url_the_plug_in_runs_its_own_embedded_server(tmp_path):  # noqa: ANN001
    storage = create_storage("redis", {"path": str(tmp_path / "data" / "traces.rdb")}, "tests")
    root = SpanSpec("frontend", "op")
    try:
        storage.writer().write(batch_of([root]))
        assert storage.reader().get_trace(root.trace_id).spans[0].span_id == root.span_id
    finally:
        storage.close()
