"""The ``redis_streams`` exporter: the collector role's end, appending each batch to a Redis stream.

Ingesters (the ``redis_streams`` receiver) read the stream in a consumer
group and write storage, as Jaeger's collectors feed ingesters through
Kafka.  Back-pressure: once the stream holds ``max_len`` entries not yet
taken off by ingesters, ``consume`` refuses (OTLP's retryable 429 /
RESOURCE_EXHAUSTED) instead of dropping or growing without bound.  A batch
is acknowledged to the sender only after Redis has appended it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from backend.core.binding import ConfigError, Duration, bind
from backend.core.component import Exporter, ExporterFactory, Host, Refused, Settings
from backend.spans.model import SpanBatch
from backend.streams.span_stream import FIELD, encode


@dataclass
class RedisStreamsExporterOptions:
    url: str = "redis://127.0.0.1:6379/0"
    stream: str = "jaeger-spans"
    max_len: int = 10_000  # entries waiting for ingesters; past it, batches are refused
    retry_after: Duration = Duration(1_000_000_000)


def _options(raw: Any, where: str) -> RedisStreamsExporterOptions:
    options = bind(RedisStreamsExporterOptions, raw, where)
    if options.max_len < 1:
        raise ConfigError(f"{where}.max_len", f"expected at least 1, got {options.max_len}")
    if not options.stream:
        raise ConfigError(f"{where}.stream", "expected a stream name")
    return options


class RedisStreamsExporter(Exporter):
    def __init__(self, settings: Settings, options: RedisStreamsExporterOptions):
        self._settings = settings
        self._options = options
        self._client: redis.Redis[bytes] | None = None
        self._sent = settings.metrics.sent.labels(settings.id)
        self._failed = settings.metrics.send_failed.labels(settings.id)

    def start(self, host: Host) -> None:
        try:
            self._client = redis.Redis.from_url(self._options.url)
        except ValueError as exc:
            raise ConfigError(f"{self._settings.where}.url", str(exc)) from exc

    def consume(self, batch: SpanBatch) -> None:
        if not batch.spans or self._client is None:
            return
        retry_after = self._options.retry_after / 1e9
        try:
            waiting = self._client.xlen(self._options.stream)
            if waiting >= self._options.max_len:
                raise Refused(f"the span stream holds {waiting} entries (max_len {self._options.max_len})", retry_after)
            self._client.xadd(self._options.stream, {FIELD: encode(batch)})
        except redis.RedisError as exc:
            self._failed.inc(len(batch.spans))
            raise Refused(f"cannot append to the span stream: {exc}", retry_after, overloaded=False) from exc
        self._sent.inc(len(batch.spans))

    def shutdown(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


FACTORY = ExporterFactory("redis_streams", _options, RedisStreamsExporter)
