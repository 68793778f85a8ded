"""The spanmetrics history as a process without the processor sees it: re-read from where it is persisted.

The query process (``backend.query_process``) serves the Monitor page, but the
spanmetrics processor counts in the ingesting process and saves its changed
buckets to the storage's database every ``flush_interval``.  The follower
loads that history once, then every ``flush_interval`` re-reads the buckets of
the last ``RECENT_NS`` plus two flushes (the ones the processor may still be
changing) and trims past ``retention``, into a store of its own that the
storage's ``MetricsHub`` hands to the metrics reader.  The Monitor page so
lags the ingesting process by up to a flush interval (15 s by default), as
a Prometheus scraping it would.  A span counted into an older bucket is seen
after the next restart of the query process.
"""

from __future__ import annotations

import logging
import threading
import time

from backend.processors.spanmetrics.hub import MetricsHub, hub_for
from backend.processors.spanmetrics.persistence import PointStore, point_store_for
from backend.processors.spanmetrics.processor import SpanMetricsOptions
from backend.processors.spanmetrics.store import TimeSeriesStore
from backend.storage.api import Storage

_MS = 1_000_000
RECENT_NS = 10 * 60_000 * _MS  # spans arrive late by up to this much and still show


class HistoryFollower:
    def __init__(self, storage: Storage, options: SpanMetricsOptions, logger: logging.Logger) -> None:
        bounds = tuple(b / _MS for b in options.histogram.buckets)
        self.store = TimeSeriesStore(int(options.resolution), int(options.retention), bounds)
        self._storage = storage
        self._options = options
        self._logger = logger
        self._points: PointStore | None = None
        self._hub: MetricsHub | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Attach to the storage's hub and load the history; a storage that keeps none leaves the hub empty."""
        self._points = point_store_for(self._storage)
        if self._points is None:
            self._logger.info("the metrics storage keeps no spanmetrics history: /api/metrics stays unavailable")
            return
        loaded = self.store.load(self._points.load(time.time_ns() - self._options.retention))
        self._logger.info("following spanmetrics history: %d point(s) loaded", loaded)
        hub = hub_for(self._storage)
        hub.attach(self.store)
        self._hub = hub
        self._thread = threading.Thread(target=self._loop, name="spanmetrics-follow", daemon=True)
        self._thread.start()

    def refresh(self) -> int:
        """Re-read the recent buckets; returns the series points read."""
        if self._points is None:
            return 0
        now = time.time_ns()
        since = now - RECENT_NS - 2 * self._options.flush_interval
        taken = self.store.replace(self._points.load(self.store.bucket_of(since)))
        self.store.trim(now)
        return taken

    def _loop(self) -> None:
        while not self._stop.wait(self._options.flush_interval / 1e9):
            try:
                self.refresh()
            except Exception:
                self._logger.exception("re-reading the spanmetrics history failed; trying again later")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._hub is not None:
            self._hub.detach(self.store)
            self._hub = None
