"""One Redis server or a Redis Cluster behind one URL, and commands run as pipelines per node that ride out a failover.

``redis+cluster://host:port[,host:port…]`` names a cluster by some of its
nodes (the client finds the rest); any other URL is a single server, as
``redis.Redis.from_url`` reads it.  The storage plug-in and the span stream
share this module.

``run`` takes commands each tied to the key it touches, groups them by the
node serving the key's slot and sends each node one pipeline: no
cross-slot transaction (a cluster refuses those), one round trip per node.
With ``Replication.replicas`` > 0 each pipeline ends in ``WAIT``, sent on
the connection that wrote, so success means the writes reached that many
replicas of their master: a master killed afterwards loses none of them.
When a node answers MOVED, CLUSTERDOWN or TRYAGAIN, or cannot be reached
(its replica is being promoted), the client re-reads the slot map and runs
the whole set again until ``patience`` runs out: every caller's commands
are idempotent (or, for a stream append, delivered at least once).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias
from urllib.parse import unquote

import redis
from redis.client import Pipeline
from redis.cluster import ClusterNode, RedisCluster
from redis.commands.core import Script
from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot
from redis.exceptions import ClusterDownError, MovedError, RedisClusterException, SlotNotCoveredError, TryAgainError

from backend.core.binding import ConfigError, Duration

CLUSTER_SCHEME = "redis+cluster://"
Client: TypeAlias = redis.Redis | RedisCluster  # values come back as bytes (no decode_responses)
#: one command: the key it touches (routing), and what it adds to a pipeline
Call = tuple[str, Callable[["Pipeline[bytes]"], object]]


class NotReplicated(Exception):
    """``WAIT`` timed out with fewer replicas than required: the write may be lost if its master dies now."""


#: what a caller catches: redis-py's errors, the cluster client's own (slot not covered, no node reachable),
#: and a write not confirmed by enough replicas
ERRORS = (redis.RedisError, RedisClusterException, NotReplicated)
_RETRYABLE = (redis.ConnectionError, redis.TimeoutError, MovedError, ClusterDownError, TryAgainError)


@dataclass(frozen=True)
class Replication:
    """Writes count as done once ``replicas`` replicas of their master have them (0: once the master has)."""

    replicas: int = 0
    timeout_ms: int = 1000


@dataclass
class DurabilityOptions:
    """How sure a write must be before it counts as done: the options of every component writing through ``run``.

    ``min_replicas_ack`` replicas must confirm it (``WAIT``; None: 1 on a
    cluster, 0 on a single server) within ``replica_ack_timeout``; a cluster
    failover is waited out for ``failover_timeout``.  The trade-off: with 1,
    an acknowledged write survives its master's death, and a master left
    without a replica refuses writes to its slots until one is back; 0
    keeps accepting, and a master that dies before replicating loses its
    last writes.
    """

    min_replicas_ack: int | None = None
    replica_ack_timeout: Duration = Duration(1_000_000_000)
    failover_timeout: Duration = Duration(15_000_000_000)

    def __post_init__(self) -> None:
        if self.min_replicas_ack is not None and self.min_replicas_ack < 0:
            raise ValueError(f"min_replicas_ack must not be negative, got {self.min_replicas_ack}")
        if self.replica_ack_timeout < 1_000_000:
            raise ValueError(f"replica_ack_timeout must be at least 1ms, got {self.replica_ack_timeout}ns")

    def replication(self, client: Client) -> Replication:
        replicas = self.min_replicas_ack if self.min_replicas_ack is not None else int(is_cluster(client))
        return Replication(replicas, int(self.replica_ack_timeout // 1_000_000))

    @property
    def patience(self) -> float:
        return self.failover_timeout / 1e9


def connect(url: str, where: str) -> Client:
    """A client for ``url``; a malformed URL is a ``ConfigError`` at ``where``."""
    if url.startswith(CLUSTER_SCHEME):
        username, password, nodes = _cluster_url(url, where)
        return RedisCluster(startup_nodes=nodes, username=username, password=password)
    try:
        return redis.Redis.from_url(url)
    except ValueError as exc:
        expected = "redis://host:PORT/db with PORT from 1 to 65535, unix://path or redis+cluster://host:PORT[,…]"
        raise ConfigError(where, f"{exc}; expected {expected}") from exc


def _cluster_url(url: str, where: str) -> tuple[str | None, str | None, list[ClusterNode]]:
    rest = url[len(CLUSTER_SCHEME) :]
    userinfo, _, rest = rest.rpartition("@")
    hosts, _, path = rest.partition("/")
    if path not in ("", "0"):
        raise ConfigError(where, f"a Redis Cluster has only database 0, got /{path}")
    nodes = []
    for node in hosts.split(","):
        host, _, port = node.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(
                where, f"expected redis+cluster://host:PORT[,host:PORT…] with PORT from 1 to 65535, got {node!r}"
            )
        nodes.append(ClusterNode(host, int(port)))
    username, _, password = userinfo.partition(":")
    return (unquote(username) or None), (unquote(password) or None), nodes


def is_cluster(client: Client) -> bool:
    return isinstance(client, RedisCluster)


def script(client: Client, text: str) -> Script:
    """A Lua script for either client (the cluster client runs it by its key's slot, as ``register_script`` does)."""
    return Script(client, text)


@functools.cache
def slot_tags(count: int) -> tuple[str, ...]:
    """``count`` hash tags whose slots fall in ``count`` equal slices of the slot range, in order.

    A cluster created evenly gives each master a contiguous slice, so keys
    tagged this way (``name:{tag}``) spread over the masters as evenly as
    ``count`` allows, where ``count`` keys hashed at random often pile onto one.
    """
    tags = []
    candidate = 0
    for k in range(count):
        low, high = k * REDIS_CLUSTER_HASH_SLOTS // count, (k + 1) * REDIS_CLUSTER_HASH_SLOTS // count
        while not low <= key_slot(str(candidate).encode()) < high:
            candidate += 1
        tags.append(str(candidate))
        candidate = 0
    return tuple(tags)


def spread_keys(name: str, count: int) -> list[str]:
    """``count`` keys for ``name``, spread over the slot range; ``[name]`` itself when there is one."""
    if count == 1:
        return [name]
    return [f"{name}:{{{tag}}}" for tag in slot_tags(count)]


def run(
    client: Client, calls: Sequence[Call], replication: Replication = Replication(), patience: float = 0.0
) -> list[Any]:
    """The results of ``calls``, in order; see the module docstring.

    On one node the commands run in the order given.  ``patience`` is how
    long (seconds) a cluster failover is waited out before its error is raised.
    """
    if not calls:
        return []
    if not isinstance(client, RedisCluster):
        return _on_node(client, calls, replication)
    deadline = time.monotonic() + patience
    pause = 0.05
    while True:
        try:
            return _per_node(client, calls, replication)
        except (*_RETRYABLE, NotReplicated, SlotNotCoveredError):
            # learn who serves which slot now, for the next round or the caller's next try (an error here:
            # the cluster is still electing)
            with contextlib.suppress(*ERRORS):
                client.nodes_manager.initialize()
            if time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 1.0)


def _per_node(client: RedisCluster[bytes], calls: Sequence[Call], replication: Replication) -> list[Any]:
    groups: dict[str, list[int]] = {}
    nodes: dict[str, ClusterNode] = {}
    for at, (key, _) in enumerate(calls):
        node = client.get_node_from_key(key)
        if node is None:
            raise SlotNotCoveredError(f"no node serves the slot of {key!r}")
        groups.setdefault(node.name, []).append(at)
        nodes[node.name] = node
    results: list[Any] = [None] * len(calls)
    for name, positions in groups.items():
        connection = client.get_redis_connection(nodes[name])
        found = _on_node(connection, [calls[at] for at in positions], replication)
        for at, value in zip(positions, found, strict=True):
            results[at] = value
    return results


def _on_node(node: redis.Redis[bytes], calls: Sequence[Call], replication: Replication) -> list[Any]:
    with node.pipeline(transaction=False) as pipe:
        for _, call in calls:
            call(pipe)
        if replication.replicas:
            pipe.wait(replication.replicas, replication.timeout_ms)
        results: list[Any] = pipe.execute()
    if replication.replicas:
        acked = results.pop()
        if acked < replication.replicas:
            raise NotReplicated(f"{acked} of {replication.replicas} replica(s) confirmed the write")
    return results
