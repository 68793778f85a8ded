"""The ``spanmetrics`` processor: RED metrics from every span that passes, then the batch goes on.

Configured like the OpenTelemetry connector it imitates (``histogram.buckets``
as durations, ``aggregation_cardinality_limit``) plus where its numbers live:
``storage`` names the jaeger_storage backend whose query API serves them (set
``jaeger_query.storage.metrics`` to the same name) and whose database keeps
their history; ``resolution`` and ``retention`` bound the time-series store.
Counting never holds data back: if it fails, the error is logged and the
batch still goes to the next consumer.  Put it after ``batch`` so counting
runs on the batch worker, not on the receivers' threads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from backend.core.binding import ConfigError, Duration, bind
from backend.core.component import Consumer, Host, Observer, ProcessorFactory, Settings
from backend.core.periodic import Periodic
from backend.extensions.storage.extension import find_storage
from backend.processors.spanmetrics.aggregator import Aggregator
from backend.processors.spanmetrics.hub import MetricsHub, hub_for
from backend.processors.spanmetrics.persistence import PointStore, point_store_for
from backend.processors.spanmetrics.prometheus import SpanMetricsCollector
from backend.processors.spanmetrics.series import DEFAULT_BUCKETS_MS
from backend.processors.spanmetrics.store import TimeSeriesStore
from backend.spans.model import SpanBatch

_MS = 1_000_000


@dataclass
class HistogramOptions:
    buckets: list[Duration] = field(default_factory=lambda: [Duration(ms * _MS) for ms in DEFAULT_BUCKETS_MS])


@dataclass
class SpanMetricsOptions:
    storage: str = ""
    resolution: Duration = Duration(15_000 * _MS)
    retention: Duration = Duration(24 * 3_600_000 * _MS)
    flush_interval: Duration = Duration(15_000 * _MS)
    aggregation_cardinality_limit: int = 1000
    histogram: HistogramOptions = field(default_factory=HistogramOptions)


def _options(raw: Any, where: str) -> SpanMetricsOptions:
    options = bind(SpanMetricsOptions, raw, where)
    if not options.storage:
        raise ConfigError(f"{where}.storage", "expected the name of a jaeger_storage backend to keep the metrics in")
    for name in ("resolution", "retention", "flush_interval"):
        if getattr(options, name) < _MS:
            raise ConfigError(f"{where}.{name}", "expected a duration of at least 1ms, such as 15s")
    if options.retention < options.resolution:
        raise ConfigError(f"{where}.retention", "expected at least one resolution's worth of time")
    if options.aggregation_cardinality_limit < 1:
        raise ConfigError(f"{where}.aggregation_cardinality_limit", "expected at least 1")
    buckets = options.histogram.buckets
    if not buckets or any(b <= 0 for b in buckets) or sorted(set(buckets)) != buckets:
        raise ConfigError(
            f"{where}.histogram.buckets", "expected positive durations in increasing order, such as [2ms, 4ms]"
        )
    return options


class SpanMetricsProcessor(Observer[SpanMetricsOptions]):
    def __init__(self, settings: Settings, options: SpanMetricsOptions, next_consumer: Consumer):
        super().__init__(settings, options, next_consumer)
        bounds = tuple(b / _MS for b in options.histogram.buckets)
        self.store = TimeSeriesStore(int(options.resolution), int(options.retention), bounds)
        self.aggregator = Aggregator(self.store, options.aggregation_cardinality_limit)
        self._collector = SpanMetricsCollector(self.aggregator)
        self._hub: MetricsHub | None = None
        self._points: PointStore | None = None
        self._flushes = Periodic(f"{settings.id}-flush", options.flush_interval / 1e9, self.flush, settings.logger)

    def start(self, host: Host) -> None:
        storage = find_storage(host, self._options.storage, f"{self._settings.where}.storage")
        self._points = point_store_for(storage)
        if self._points is None:
            self._settings.logger.info("storage %r keeps no metric history: it starts empty", self._options.storage)
        else:
            since = time.time_ns() - self._options.retention
            loaded = self.store.load(self._points.load(since))
            self._settings.logger.info("loaded %d metric point(s) of history", loaded)
        hub = hub_for(storage)
        try:
            hub.attach(self.store)
        except ValueError as exc:  # two pipelines with their own spanmetrics over one storage
            raise ConfigError(f"{self._settings.where}.storage", str(exc)) from exc
        self._hub = hub
        self._settings.metrics.registry.register(self._collector)
        self._flushes.start()

    def observe(self, batch: SpanBatch) -> None:
        self.aggregator.add(batch.spans)

    def flush(self) -> None:
        """Forget buckets past retention; write changed buckets to storage (retried at the next flush on failure)."""
        now = time.time_ns()
        self.store.trim(now)
        if self._points is None:
            return
        changed = self.store.take_dirty()
        try:
            self._points.save(changed)
            self._points.purge(now - self._options.retention)
        except Exception:
            self.store.mark_dirty(changed)
            self._settings.logger.exception("saving %d metric bucket(s) failed; retrying later", len(changed))

    def shutdown(self) -> None:
        if self._flushes.stop(timeout=None):
            self.flush()
            self._settings.metrics.registry.unregister(self._collector)
        if self._hub is not None:
            self._hub.detach(self.store)
            self._hub = None


FACTORY = ProcessorFactory("spanmetrics", _options, SpanMetricsProcessor)
