"""The ``redis_streams`` exporter: the collector role's end, appending each batch to a Redis stream.

Ingesters (the ``redis_streams`` receiver) read the stream in a consumer
group and write storage, as Jaeger's collectors feed ingesters through
Kafka.  A batch is split by trace id over the stream's partitions
(``backend.streams.partitions``), each appended to its own key: on a Redis
Cluster the partitions live on different masters, so no one node takes
every append.

Delivery goes through the exporter helper's sending queue and retries.  A
batch leaves the queue only once every part was appended and, with
``min_replicas_ack``, reached that many replicas (``WAIT``); a failover is
waited out inside ``send``, and what still fails is retried by the helper.
A batch failed half-appended is sent again whole: the ingesters store each
span once however often it arrives.  Back-pressure per partition: once a
partition the batch needs holds ``max_len`` entries not yet taken off by
ingesters, ``send`` fails as "full" before appending anything and the batch
waits in the sending queue; when that is full too, senders are refused
(OTLP's retryable 429 / RESOURCE_EXHAUSTED).  Nothing is dropped.  With a
persistent ``sending_queue`` (the collector roles' default) a batch is on
the collector's disk before the sender hears success.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import methodcaller
from typing import Any

from backend.core.binding import ConfigError, bind
from backend.core.component import ExporterFactory, Host, Settings
from backend.exporters.helper import HelperOptions, QueuedExporter, Throttled
from backend.spans.model import SpanBatch
from backend.storage.redis.client import Client, DurabilityOptions, connect, run
from backend.streams.partitions import PartitionOptions, split
from backend.streams.span_stream import FIELD, encode


@dataclass
class RedisStreamsExporterOptions(PartitionOptions, DurabilityOptions, HelperOptions):
    max_len: int = 10_000  # entries waiting for ingesters in one partition; past it, batches wait in the queue


def _options(raw: Any, where: str) -> RedisStreamsExporterOptions:
    options = bind(RedisStreamsExporterOptions, raw, where)
    if options.max_len < 1:
        raise ConfigError(f"{where}.max_len", f"expected at least 1, got {options.max_len}")
    options.check_partitions(where)
    options.check_helper(where)
    return options


class RedisStreamsExporter(QueuedExporter):
    def __init__(self, settings: Settings, options: RedisStreamsExporterOptions):
        super().__init__(settings, options)
        self._options = options
        self._client: Client | None = None
        self._keys: list[str] = []

    def start(self, host: Host) -> None:
        self._client = connect(self._options.url, f"{self._settings.where}.url")
        self._keys = self._options.partition_keys(self._client)
        super().start(host)

    def send(self, batch: SpanBatch) -> None:
        assert self._client is not None
        options = self._options
        parts = {self._keys[k]: part for k, part in split(batch, len(self._keys)).items()}
        lengths = run(self._client, [(key, methodcaller("xlen", key)) for key in parts], patience=options.patience)
        for key, waiting in zip(parts, lengths, strict=True):
            if waiting >= options.max_len:
                message = f"stream partition {key} holds {waiting} entries (max_len {options.max_len})"
                raise Throttled(message, None, overloaded=True)
        appends = [(key, methodcaller("xadd", key, {FIELD: encode(part)})) for key, part in parts.items()]
        run(self._client, appends, options.replication(self._client), options.patience)

    def shutdown(self) -> None:
        super().shutdown()
        if self._client is not None:
            self._client.close()
            self._client = None


FACTORY = ExporterFactory("redis_streams", _options, RedisStreamsExporter)
