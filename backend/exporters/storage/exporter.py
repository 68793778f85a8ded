"""The ``jaeger_storage_exporter``: the end of a traces pipeline, writing to a named storage.

A failed write is logged, counted and retried with exponential back-off, up
to ``retry_on_failure.max_attempts`` attempts in all (default 5: about 1.5 s
of waiting), because storage hiccups (a locked SQLite file, a PostgreSQL
failover) are usually short.  After the last attempt the batch is given up
and the error raised to the caller, which counts the spans as dropped.
Writes are idempotent per (trace id, span id), so a retry after a write that
did land stores nothing twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from backend.core.binding import ConfigError, bind
from backend.core.component import Exporter, ExporterFactory, Host, Settings
from backend.exporters.helper.retry import RetryOptions
from backend.extensions.storage.extension import find_storage
from backend.spans.model import SpanBatch
from backend.storage.api import SpanWriter


@dataclass
class StorageExporterOptions:
    trace_storage: str = ""
    retry_on_failure: RetryOptions = field(default_factory=RetryOptions)


def _options(raw: Any, where: str) -> StorageExporterOptions:
    options = bind(StorageExporterOptions, raw, where)
    if not options.trace_storage:
        raise ConfigError(f"{where}.trace_storage", "expected the name of a jaeger_storage backend")
    options.retry_on_failure.check(where)
    return options


class StorageExporter(Exporter):
    def __init__(self, settings: Settings, options: StorageExporterOptions):
        self._settings = settings
        self._options = options
        self._writer: SpanWriter | None = None
        metrics = settings.metrics
        self._sent = metrics.sent.labels(settings.id)
        self._failed = metrics.send_failed.labels(settings.id)
        self._errors = metrics.write_errors.labels(settings.id)
        self._latency = metrics.write_seconds.labels(settings.id)

    def start(self, host: Host) -> None:
        where = f"{self._settings.where}.trace_storage"
        self._writer = find_storage(host, self._options.trace_storage, where).writer()

    def consume(self, batch: SpanBatch) -> None:
        writer = self._writer
        assert writer is not None, "consume before start"
        retry = self._options.retry_on_failure
        attempts = retry.attempts
        for attempt in range(1, attempts + 1):
            started = time.perf_counter()
            try:
                writer.write(batch)
            except Exception as exc:
                self._errors.inc()
                if attempt == attempts:
                    self._failed.inc(len(batch))
                    self._settings.logger.error(
                        "giving up on %d span(s) after %d attempt(s): %s", len(batch), attempts, exc
                    )
                    raise
                delay = retry.backoff(attempt)
                self._settings.logger.warning(
                    "storage write of %d span(s) failed (attempt %d of %d), retrying in %.2fs: %s",
                    len(batch),
                    attempt,
                    attempts,
                    delay,
                    exc,
                )
                time.sleep(delay)
                continue
            self._latency.observe(time.perf_counter() - started)
            self._sent.inc(len(batch))
            return

    def shutdown(self) -> None:
        # Nothing buffered here; the storage itself is closed by its extension, after every exporter stops.
        self._writer = None


FACTORY = ExporterFactory("jaeger_storage_exporter", _options, StorageExporter)
