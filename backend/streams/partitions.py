"""A span stream split into partitions by trace id, as Jaeger's Kafka topic is: what collectors and ingesters agree on.

Partition ``k`` of stream ``S`` is the key ``S:{<tag k>}`` (``S`` itself
when there is one partition), the tags spread over the cluster's slot range
so partitions land on different masters.  A trace's spans always go to the
same partition.  Collectors and ingesters must use the same ``stream`` and
``partitions``: an ingester reads only the partitions it knows of.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.binding import ConfigError
from backend.spans.model import SpanBatch
from backend.storage.redis.client import Client, is_cluster, spread_keys

CLUSTER_PARTITIONS = 6  # two per master of a minimal (3-master) cluster


@dataclass
class PartitionOptions:
    """The options collectors and ingesters share (both must be given the same values)."""

    url: str = "redis://127.0.0.1:6379/0"  # or redis+cluster://host:port[,host:port…]
    stream: str = "jaeger-spans"
    partitions: int | None = None  # None: 1 on a single server, 6 on a cluster; at least the number of masters

    def check_partitions(self, where: str) -> None:
        if not self.stream:
            raise ConfigError(f"{where}.stream", "expected a stream name")
        if self.partitions is not None and self.partitions < 1:
            raise ConfigError(f"{where}.partitions", f"expected at least 1, got {self.partitions}")

    def partition_keys(self, client: Client) -> list[str]:
        count = self.partitions or (CLUSTER_PARTITIONS if is_cluster(client) else 1)
        return spread_keys(self.stream, count)


def split(batch: SpanBatch, count: int) -> dict[int, SpanBatch]:
    """``batch`` as one batch per partition its traces fall in, each with the processes its spans refer to."""
    if count == 1:
        return {0: batch}
    parts: dict[int, SpanBatch] = {}
    for record in batch.spans:
        part = parts.setdefault(partition_of(record.trace_id, count), SpanBatch())
        part.spans.append(record)
        blob = batch.processes.get(record.process_id)
        if blob is not None:
            part.processes[record.process_id] = blob
    return parts


def partition_of(trace_id: bytes, count: int) -> int:
    return int.from_bytes(trace_id[-4:], "big") % count
