"""Collectors feeding ingesters through a span stream partitioned over a Redis Cluster (in-process backends).

A partition's key is chosen by trace id, so the tests pick trace ids that
land in the partitions they need (``partition_of`` reads the id's last four
bytes).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from backend.service import BackendService
from backend.storage.redis.client import connect, spread_keys
from backend.streams.partitions import CLUSTER_PARTITIONS, partition_of
from tests.builders import SpanSpec
from tests.redis_cluster import LocalCluster
from tests.scaleout.streams import collector_config, ingester_config, send
from tests.storage import redis_setup
from tests.support import wait_for


def in_partition(k: int) -> SpanSpec:
    trace_id = os.urandom(12) + k.to_bytes(4, "big")
    assert partition_of(trace_id, CLUSTER_PARTITIONS) == k
    return SpanSpec("frontend", "GET /dispatch", trace_id=trace_id)


@pytest.fixture
def stream(redis_cluster: LocalCluster) -> Iterator[str]:
    prefix = redis_setup.unique_prefix()
    yield f"{prefix}:spans"
    redis_setup.delete_prefix(prefix, redis_cluster.url)


def stored(service: BackendService, trace_id: bytes) -> bool:
    response = requests.get(f"http://{service.endpoints['jaeger_query']}/api/traces/{trace_id.hex()}", timeout=5)
    return response.status_code == 200


def entries_added(url: str, stream: str) -> list[int]:
    """How many entries each partition ever received (``XINFO STREAM``'s counter outlives deleted entries)."""
    with contextlib.closing(connect(url, "tests")) as client:
        keys = [key for key in client.scan_iter(match=f"{stream}:*") if client.type(key) == b"stream"]
        return [client.xinfo_stream(key)["entries-added"] for key in keys]


def test_a_batch_is_spread_over_every_partition_and_stored_by_an_ingester(redis_cluster: LocalCluster, stream, run):  # noqa: ANN001
    sender = run(collector_config(redis_cluster.url, stream))
    reader = run(ingester_config(redis_cluster.url, stream))
    roots = [in_partition(k) for k in range(CLUSTER_PARTITIONS)]

    assert send(sender, *roots).status_code == 200

    for root in roots:
        wait_for(
            functools.partial(stored, reader, root.trace_id), timeout=15, what=f"trace {root.trace_id.hex()} stored"
        )
    assert entries_added(redis_cluster.url, stream) == [1] * CLUSTER_PARTITIONS


def test_a_full_partition_keeps_batches_in_the_sending_queue_then_senders_hear_429(
    redis_cluster: LocalCluster,
    stream,  # noqa: ANN001
    run,  # noqa: ANN001
    tmp_path: Path,
):
    # the collector role's persistent queue, 2 spans long; no ingester: entries stay in the stream
    config = collector_config(
        redis_cluster.url, stream, max_len=1, sending_queue={"storage": "file_storage", "queue_size": 2}
    )
    config["service"]["extensions"] = ["file_storage"]
    config["extensions"] = {"file_storage": {"directory": str(tmp_path / "queue")}}
    sender = run(config)

    assert send(sender, in_partition(0)).status_code == 200
    wait_for(lambda: sum(entries_added(redis_cluster.url, stream)) == 1, timeout=15, what="the first batch appended")
    queued = [send(sender, in_partition(0)).status_code, send(sender, in_partition(1)).status_code]
    refused = send(sender, in_partition(1))

    assert (queued, refused.status_code) == ([200, 200], 429)
    assert sum(entries_added(redis_cluster.url, stream)) == 1  # the queued batches wait for partition 0


def test_an_append_no_replica_confirms_is_answered_with_a_retryable_status(redis_cluster: LocalCluster, stream, run):  # noqa: ANN001
    # every master has one replica: asking for two can never be met.  No queue and no retries, so the
    # sender hears the append's own outcome
    sender = run(
        collector_config(
            redis_cluster.url,
            stream,
            min_replicas_ack=2,
            replica_ack_timeout="20ms",
            failover_timeout="0s",
            sending_queue={"enabled": False},
            retry_on_failure={"enabled": False},
        )
    )

    response = send(sender, in_partition(0))

    assert response.status_code == 503
    assert "Retry-After" in response.headers


def test_an_ingester_acknowledges_a_partitions_entries_only_once_storage_committed_them(  # noqa: ANN001
    redis_cluster: LocalCluster, stream, run, tmp_path: Path
):
    database = tmp_path / "traces.db"
    config = ingester_config(redis_cluster.url, stream)
    config["extensions"]["jaeger_storage"] = {"backends": {"main": {"sql": {"url": f"sqlite:///{database}"}}}}
    reader = run(config)
    lock = sqlite3.connect(database, isolation_level=None, timeout=30)
    lock.execute("BEGIN EXCLUSIVE")  # storage cannot commit
    root = in_partition(0)
    assert send(run(collector_config(redis_cluster.url, stream)), root).status_code == 200
    key = spread_keys(stream, CLUSTER_PARTITIONS)[0]

    wait_for(lambda: backlog(redis_cluster.url, key) == (1, 1), timeout=15, what="the entry read by the ingester")
    time.sleep(0.5)  # the queues took it long ago; only storage can acknowledge it, and storage is locked
    assert backlog(redis_cluster.url, key) == (1, 1)
    lock.execute("ROLLBACK")
    lock.close()

    wait_for(lambda: backlog(redis_cluster.url, key) == (0, 0), timeout=20, what="the entry acknowledged once stored")
    assert stored(reader, root.trace_id)


def backlog(url: str, key: str) -> tuple[int, int]:
    """(entries pending in the ingesters' group, entries in the partition)."""
    with contextlib.closing(connect(url, "tests")) as client:
        return int(client.xpending(key, "ingesters")["pending"]), int(client.xlen(key))
