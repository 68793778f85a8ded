"""The ``jaeger_storage_exporter``: the end of a traces pipeline, writing to a named storage.

Queueing, retries and back-pressure are the exporter helper's
(``sending_queue``, ``retry_on_failure``): a failed write is retried for as
long as the storage is down, never given up after a number of attempts.
Writes are idempotent per (trace id, span id), so a retry after a write
that did land, or a batch replayed from the persistent queue, stores
nothing twice.  The storage's health (``jaeger_storage_up``, the health
endpoint) follows the writes: down from the first failure, up again at the
first success.

A storage that lives in the backend's own process (``BoundedWrites``: the
memory store) is refused for, with 429 as a full queue is and through the
same ``refusal()`` the receivers ask before decoding, past ``max_pending_spans``
spans in the sending queue and while the receiving event loop or worker pool is
more than ``max_receive_lag`` behind (``backend.core.lag``): its searches starve ingest of the GIL
long before any queue fills, and refusing then answers senders at once and
spends no CPU decoding what would wait.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from backend.core.binding import ConfigError, bind
from backend.core.component import ExporterFactory, Host, Refused, Settings
from backend.core.lag import ReceiveLag
from backend.exporters.helper import HelperOptions, QueuedExporter
from backend.extensions.storage.extension import StorageExtension, find_storage_extension
from backend.spans.model import SpanBatch
from backend.storage.api import BoundedWrites, SpanWriter


@dataclass
class StorageExporterOptions(HelperOptions):
    trace_storage: str = ""


def _options(raw: Any, where: str) -> StorageExporterOptions:
    options = bind(StorageExporterOptions, raw, where)
    if not options.trace_storage:
        raise ConfigError(f"{where}.trace_storage", "expected the name of a jaeger_storage backend")
    options.check_helper(where)
    return options


class StorageExporter(QueuedExporter):
    def __init__(self, settings: Settings, options: StorageExporterOptions):
        super().__init__(settings, options)
        self._options = options
        self._writer: SpanWriter | None = None
        self._extension: StorageExtension | None = None
        self._errors = settings.metrics.write_errors.labels(settings.id)
        self._latency = settings.metrics.write_seconds.labels(settings.id)
        self._max_pending: int | None = None
        self._max_lag_s = 0.0
        self._lag = ReceiveLag()

    def start(self, host: Host) -> None:
        name = self._options.trace_storage
        self._extension = find_storage_extension(host, name, f"{self._settings.where}.trace_storage")
        storage = self._extension.storage(name)
        assert storage is not None, "find_storage_extension found it"
        self._writer = storage.writer()
        if isinstance(storage, BoundedWrites):
            self._max_pending = storage.max_pending_spans
            self._max_lag_s = storage.max_receive_lag / 1e9
        super().start(host)

    def refusal(self) -> Refused | None:
        """Also refused while the receiver is too far behind: asked before decoding only, not again at consume."""
        refused = super().refusal()
        if refused is None and self._max_lag_s and not self.best_effort:
            behind = self._lag.behind()
            if behind > self._max_lag_s:
                limit_ms = self._max_lag_s * 1000
                return self._cannot_keep_up(
                    f"its receiver is {behind * 1000:.0f} ms behind, more than {limit_ms:g} ms (max_receive_lag)"
                )
        return refused

    def _refusal(self, count: int) -> Refused | None:
        refused = super()._refusal(count)
        queue, limit = self._queue, self._max_pending
        if refused is None and queue is not None and limit is not None:
            pending = queue.size()
            if pending and pending + count > limit:  # a batch larger than the limit still goes in alone
                return self._cannot_keep_up(f"{pending} spans wait, and it keeps at most {limit} (max_pending_spans)")
        return refused

    def _cannot_keep_up(self, why: str) -> Refused:
        message = f"{self._settings.id}: storage {self._options.trace_storage!r} cannot keep up: {why}"
        return Refused(message, self._helper.sending_queue.retry_after / 1e9)

    def send(self, batch: SpanBatch) -> None:
        writer = self._writer
        assert writer is not None, "send before start"
        started = time.perf_counter()
        try:
            writer.write(batch)
        except Exception:
            self._errors.inc()
            raise
        self._latency.observe(time.perf_counter() - started)

    def sync(self) -> None:
        writer = self._writer
        assert writer is not None, "sync before start"
        writer.sync()

    def peer_up(self, up: bool, error: Exception | None) -> None:
        if self._extension is not None:
            self._extension.report(self._options.trace_storage, error)

    def shutdown(self) -> None:
        # The storage itself is closed by its extension, after every exporter stops.
        super().shutdown()
        self._writer = None


FACTORY = ExporterFactory("jaeger_storage_exporter", _options, StorageExporter)
