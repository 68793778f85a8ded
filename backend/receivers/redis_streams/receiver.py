"""The ``redis_streams`` receiver: the ingester role's start, reading a partitioned stream in a consumer group.

Every ingester reads every partition (``backend.streams.partitions``), one
reader thread each (``reader.PartitionReader``), in one consumer group per
partition: the group hands each entry to one ingester, so ingesters share
the partitions' entries, and a partition on a master being replaced stalls
only its own reader.  The entries of one read (up to ``count``) go on as
one batch.  At-least-once: the entries are acknowledged (and deleted, so a
partition's length is the backlog the collectors' back-pressure watches)
only after storage committed their spans: the exporter at the end of the
pipeline calls the batch's ``on_stored``, with or without a batch processor
or a sending queue in between.  Entries the pipeline refuses stay pending
and are retried.  Entries left pending by an ingester that died are claimed
after ``claim_idle`` by whichever ingester looks first (``XAUTOCLAIM``).  A
claimed entry may already have been stored: storage writes are idempotent
by trace and span id, so a second delivery stores nothing twice.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from typing import Any

import redis

from backend.core.binding import ConfigError, Duration, bind
from backend.core.component import Consumer, Host, Receiver, ReceiverFactory, Settings, Stage
from backend.receivers.redis_streams.reader import PartitionReader
from backend.storage.redis.client import ERRORS, Client, connect
from backend.streams.partitions import PartitionOptions


@dataclass
class RedisStreamsReceiverOptions(PartitionOptions):
    group: str = "ingesters"
    consumer: str = ""  # unique per ingester; default: host name and process id
    count: int = 20  # entries per read
    block: Duration = Duration(500_000_000)
    claim_idle: Duration = Duration(30_000_000_000)  # a pending entry idle this long is taken over
    claim_interval: Duration = Duration(5_000_000_000)


def _options(raw: Any, where: str) -> RedisStreamsReceiverOptions:
    options = bind(RedisStreamsReceiverOptions, raw, where)
    for name in ("count", "block", "claim_idle", "claim_interval"):
        if getattr(options, name) < 1:
            raise ConfigError(f"{where}.{name}", f"expected a positive value, got {getattr(options, name)}")
    options.check_partitions(where)
    return options


class RedisStreamsReceiver(Stage[RedisStreamsReceiverOptions], Receiver):
    def __init__(self, settings: Settings, options: RedisStreamsReceiverOptions, next_consumer: Consumer):
        super().__init__(settings, options, next_consumer)
        self._consumer = options.consumer or f"{socket.gethostname()}-{os.getpid()}"
        self._client: Client | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    def start(self, host: Host) -> None:
        options = self._options
        self._client = connect(options.url, f"{self._settings.where}.url")
        # a client of its own for acknowledgements, which arrive from exporter threads, also after shutdown
        acks = connect(options.url, f"{self._settings.where}.url")
        keys = options.partition_keys(self._client)
        try:
            for key in keys:
                self._create_group(self._client, key)
        except ERRORS as exc:
            raise RuntimeError(f"cannot create the consumer group {options.group!r} on the span stream: {exc}") from exc
        for key in keys:
            reader = PartitionReader(
                self._settings, options, self._consumer, key, self._client, acks, self._next, self._stopping
            )
            thread = threading.Thread(target=reader.run, name=f"{self._settings.id}-{key}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _create_group(self, client: Client, key: str) -> None:
        try:
            client.xgroup_create(key, self._options.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def shutdown(self) -> None:
        """Stop reading.  Entries handed on are acknowledged as the exporters drain, through ``_acks``, a client
        that stays open for them (closed with the process)."""
        self._stopping.set()
        for thread in self._threads:
            thread.join()
        self._threads = []
        if self._client is not None:
            self._client.close()
            self._client = None


FACTORY = ReceiverFactory("redis_streams", _options, RedisStreamsReceiver)
