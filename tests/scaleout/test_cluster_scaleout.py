"""Scale-out on a Redis Cluster, as shipped in deploy/roles/cluster/: 2 collectors, 2 ingesters, 1 query process.

Streams and storage share the session's cluster (3 masters, 3 replicas).
Mid-load one Redis master is killed with SIGKILL (its replica takes over;
the dead node is then restarted, as a supervisor would, and rejoins as a
replica) and so is one ingester (the other claims its entries after the
role's ``claim_idle``).  Senders retry what is refused, as OTLP exporters
do.  Every span a collector acknowledged must then be found through the
query process, exactly once.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from redis.cluster import RedisCluster

from backend.storage.redis.client import connect, spread_keys
from backend.streams.partitions import CLUSTER_PARTITIONS
from tests.builders import SpanSpec, export_request
from tests.redis_cluster import LocalCluster
from tests.scaleout.roles import RoleProcess
from tests.storage import redis_setup
from tests.support import wait_for

SPANS_PER_TRACE = 10


class Topology:
    def __init__(self, cluster: LocalCluster) -> None:
        self.cluster = cluster
        self.prefix = redis_setup.unique_prefix()
        self.stream = f"{self.prefix}:spans"
        self.processes: list[RoleProcess] = []

    def start(self, workdir: Path) -> None:
        cluster = self.cluster
        urls = {"url": cluster.url, "stream": self.stream}
        stream = {f"exporters.redis_streams.{key}": value for key, value in urls.items()}
        storage = {
            "extensions.jaeger_storage.backends.main.redis.url": cluster.url,
            "extensions.jaeger_storage.backends.main.redis.prefix": f"{self.prefix}:traces",
        }
        for i in range(2):
            receiver = {f"receivers.redis_streams.{key}": value for key, value in urls.items()}
            receiver["receivers.redis_streams.consumer"] = f"ingester-{i}"
            self.processes.append(RoleProcess("ingester", f"ingester-{i}", {**receiver, **storage}, workdir))
        for i in range(2):
            self.processes.append(RoleProcess("collector", f"collector-{i}", stream, workdir))
        self.processes.append(RoleProcess("query", "query", storage, workdir))
        for process in self.processes:
            process.wait_ready()
        self.ingesters, self.collectors, self.query = self.processes[:2], self.processes[2:4], self.processes[4]

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


@pytest.fixture
def topology(redis_cluster: LocalCluster, tmp_path: Path) -> Iterator[Topology]:
    made = Topology(redis_cluster)
    try:
        made.start(tmp_path)
        yield made
    finally:
        made.stop()
        redis_cluster.heal()
        redis_setup.delete_prefix(made.prefix, redis_cluster.url)


def send_until_acknowledged(collector: RoleProcess, stop: threading.Event) -> SpanSpec | None:
    """One trace, resent on 429/503 or a timeout as an OTLP exporter would; its root once acknowledged."""
    root = SpanSpec("frontend", "GET /dispatch")
    spans = [root, *(root.child("driver", f"op {i}") for i in range(SPANS_PER_TRACE - 1))]
    body = export_request(spans).SerializeToString()
    while True:
        try:
            response = requests.post(
                collector.url("otlp/http", "/v1/traces"),
                data=body,
                headers={"Content-Type": "application/x-protobuf"},
                timeout=30,
            )
            if response.status_code == 200:
                return root
            assert response.status_code in (429, 503), response.text
        except requests.Timeout:
            pass
        if stop.wait(0.2):
            return None


def stored_span_ids(query: RoleProcess, trace_id: bytes) -> list[str]:
    response = requests.get(query.url("jaeger_query", f"/api/traces/{trace_id.hex()}"), timeout=10)
    return [span["spanID"] for span in response.json()["data"][0]["spans"]] if response.status_code == 200 else []


def stored_whole(query: RoleProcess, trace_id: bytes) -> bool:
    return len(stored_span_ids(query, trace_id)) >= SPANS_PER_TRACE


def master_of_first_partition(cluster: LocalCluster, stream: str) -> int:
    with contextlib.closing(connect(cluster.url, "tests")) as client:
        assert isinstance(client, RedisCluster)
        return int(client.get_node_from_key(spread_keys(stream, CLUSTER_PARTITIONS)[0]).port)


def nothing_pending(cluster: LocalCluster, stream: str) -> bool:
    with contextlib.closing(connect(cluster.url, "tests")) as client:
        keys = spread_keys(stream, CLUSTER_PARTITIONS)
        return all(client.xpending(key, "ingesters")["pending"] == 0 for key in keys)


@pytest.mark.timeout(180)
def test_every_acknowledged_span_is_stored_once_when_a_master_and_an_ingester_die_mid_load(
    redis_cluster: LocalCluster, topology: Topology
):
    acknowledged: list[SpanSpec] = []
    stop = threading.Event()

    def load(collector: RoleProcess) -> None:
        while not stop.is_set():
            root = send_until_acknowledged(collector, stop)
            if root is not None:
                acknowledged.append(root)  # list.append is atomic

    senders = [threading.Thread(target=load, args=(collector,)) for collector in topology.collectors]
    for sender in senders:
        sender.start()
    try:
        wait_for(lambda: len(acknowledged) >= 30, timeout=60, what="load under way")
        redis_cluster.kill(master_of_first_partition(redis_cluster, topology.stream))
        os.kill(topology.ingesters[0].popen.pid, signal.SIGKILL)
        redis_cluster.wait_healthy(replicas=False)  # the replica took over
        redis_cluster.heal()  # the dead node is back, as a replica
        after = len(acknowledged)
        wait_for(lambda: len(acknowledged) >= after + 30, timeout=60, what="load acknowledged after the failover")
    finally:
        stop.set()
        for sender in senders:
            sender.join()

    for root in acknowledged:
        wait_for(
            functools.partial(stored_whole, topology.query, root.trace_id),
            timeout=60,
            what=f"trace {root.trace_id.hex()} stored",
        )
        span_ids = stored_span_ids(topology.query, root.trace_id)
        assert len(span_ids) == len(set(span_ids)) == SPANS_PER_TRACE
    wait_for(
        lambda: nothing_pending(redis_cluster, topology.stream),
        timeout=30,
        what="the killed ingester's entries claimed and acknowledged",
    )
