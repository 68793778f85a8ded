"""The ``redis_streams`` exporter: the collector role's end, appending each batch to a Redis stream.

Ingesters (the ``redis_streams`` receiver) read the stream in a consumer
group and write storage, as Jaeger's collectors feed ingesters through
Kafka.  Back-pressure: once the stream holds ``max_len`` entries not yet
taken off by ingesters, an append fails as "full" and the exporter helper
keeps the batch queued and retries it; when the sending queue is full too,
senders are refused (OTLP's retryable 429 / RESOURCE_EXHAUSTED).  Nothing
is dropped.  With a persistent ``sending_queue`` (the collector role's
default) a batch is on the collector's disk before the sender hears
success; with an in-memory one it is only queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from backend.core.binding import ConfigError, bind
from backend.core.component import ExporterFactory, Host, Settings
from backend.exporters.helper import HelperOptions, QueuedExporter, Throttled
from backend.spans.model import SpanBatch
from backend.streams.span_stream import FIELD, encode


@dataclass
class RedisStreamsExporterOptions(HelperOptions):
    url: str = "redis://127.0.0.1:6379/0"
    stream: str = "jaeger-spans"
    max_len: int = 10_000  # entries waiting for ingesters; past it, batches wait in the sending queue


def _options(raw: Any, where: str) -> RedisStreamsExporterOptions:
    options = bind(RedisStreamsExporterOptions, raw, where)
    if options.max_len < 1:
        raise ConfigError(f"{where}.max_len", f"expected at least 1, got {options.max_len}")
    if not options.stream:
        raise ConfigError(f"{where}.stream", "expected a stream name")
    options.check_helper(where)
    return options


class RedisStreamsExporter(QueuedExporter):
    def __init__(self, settings: Settings, options: RedisStreamsExporterOptions):
        super().__init__(settings, options)
        self._options = options
        self._client: redis.Redis[bytes] | None = None

    def start(self, host: Host) -> None:
        try:
            self._client = redis.Redis.from_url(self._options.url)
        except ValueError as exc:
            raise ConfigError(f"{self._settings.where}.url", str(exc)) from exc
        super().start(host)

    def send(self, batch: SpanBatch) -> None:
        assert self._client is not None
        waiting = self._client.xlen(self._options.stream)
        if waiting >= self._options.max_len:
            raise Throttled(f"the span stream holds {waiting} entries (max_len {self._options.max_len})", None, True)
        self._client.xadd(self._options.stream, {FIELD: encode(batch)})

    def shutdown(self) -> None:
        super().shutdown()
        if self._client is not None:
            self._client.close()
            self._client = None


FACTORY = ExporterFactory("redis_streams", _options, RedisStreamsExporter)
