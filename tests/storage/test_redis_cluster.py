"""What the redis plug-in adds on a Redis Cluster (beyond the conformance suite, which runs there too).

Writes spread over every master, a write no replica confirms is not
acknowledged, and a write made while a master dies waits out the failover
instead of failing.  The cluster is the session's (``tests/redis_cluster.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from backend.core.binding import ConfigError
from backend.storage.api import StorageError
from backend.storage.factory import create_storage
from backend.storage.redis.store import RedisStorage
from tests.builders import SpanSpec, batch_of
from tests.redis_cluster import LocalCluster
from tests.storage import redis_setup


@pytest.fixture
def prefix(redis_cluster: LocalCluster) -> Iterator[str]:
    made = redis_setup.unique_prefix()
    yield made
    redis_setup.delete_prefix(made, redis_cluster.url)


def storage_on(cluster: LocalCluster, prefix: str, **options: Any) -> RedisStorage:
    made = create_storage("redis", {"url": cluster.url, "prefix": prefix, **options}, "tests")
    assert isinstance(made, RedisStorage)
    return made


def keys_per_master(cluster: LocalCluster, pattern: str) -> dict[int, list[bytes]]:
    found = {}
    for port in cluster.masters():
        with contextlib.closing(redis.Redis(port=port)) as node:
            found[port] = list(node.scan_iter(match=pattern, count=1000))
    return found


@pytest.mark.parametrize(
    "url",
    [
        "redis+cluster://u:secret@127.0.0.1",
        "redis+cluster://u:secret@127.0.0.1:7000/1",
        "redis+cluster://u:secret@127.0.0.1:7000,:x",
    ],
)
def test_a_malformed_cluster_url_is_a_config_error_naming_the_option_not_the_password(url: str):
    with pytest.raises(ConfigError, match=r"^tests\.url: ") as failed:
        create_storage("redis", {"url": url}, "tests")
    assert "secret" not in str(failed.value)


def test_the_global_indexes_are_shards_spread_over_every_master(redis_cluster: LocalCluster, prefix: str):
    storage = storage_on(redis_cluster, prefix)
    roots = [SpanSpec("frontend", "GET /dispatch") for _ in range(60)]
    try:
        storage.writer().write(batch_of([*roots, *(root.child("driver", "FindNearest") for root in roots)]))
    finally:
        storage.close()

    shards = keys_per_master(redis_cluster, f"{prefix}:idx:all:*")
    service_shards = keys_per_master(redis_cluster, f"{prefix}:idx:svc:driver:*")

    assert sorted(len(keys) for keys in shards.values()) == [2, 2, 2]
    assert sorted(len(keys) for keys in service_shards.values()) == [2, 2, 2]


def test_a_write_fewer_replicas_confirm_than_required_is_not_acknowledged(redis_cluster: LocalCluster, prefix: str):
    # every master has one replica: asking for two can never be met
    storage = storage_on(redis_cluster, prefix, min_replicas_ack=2, replica_ack_timeout="20ms", failover_timeout="0s")
    try:
        with pytest.raises(StorageError, match="1 of 2 replica"):
            storage.writer().write(batch_of([SpanSpec("frontend", "op")]))
    finally:
        storage.close()


def test_a_write_while_a_master_dies_waits_for_its_replica_to_take_over(redis_cluster: LocalCluster, prefix: str):
    # min_replicas_ack 0: the promoted replica has no replica of its own until the dead node returns
    storage = storage_on(redis_cluster, prefix, min_replicas_ack=0, failover_timeout="30s")
    roots = [SpanSpec("frontend", "op") for _ in range(30)]  # traces on every master's slots
    try:
        redis_cluster.kill(redis_cluster.masters()[0])
        storage.writer().write(batch_of(roots))
        stored = [storage.reader().get_trace(root.trace_id) for root in roots]
    finally:
        storage.close()
        redis_cluster.heal()

    assert all(trace is not None and len(trace.spans) == 1 for trace in stored)
