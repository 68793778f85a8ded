"""Counts spans into metric series on the ingest path: calls, duration sum and histogram, per series.

A batch is first counted into a local dict (one tuple, one dict lookup and
one bisect per span: no payload is touched), then merged once per distinct
series into the running totals (for Prometheus) and into the time-series
store's current bucket.  Cardinality is bounded: once ``cardinality_limit``
series exist, spans of any new series are folded into ``OVERFLOW_KEY`` and
counted in ``overflowed``, as the OpenTelemetry connector does.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections.abc import Sequence

from backend.processors.spanmetrics.series import OVERFLOW_KEY, Cell, SeriesKey, merge_into, new_cell
from backend.processors.spanmetrics.store import TimeSeriesStore
from backend.spans.model import SpanRecord


class Aggregator:
    def __init__(self, store: TimeSeriesStore, cardinality_limit: int) -> None:
        self.bounds_ms = store.bounds_ms
        self._bounds_ns = [int(bound * 1_000_000) for bound in self.bounds_ms]
        self._cells = len(self._bounds_ns) + 1
        self.cardinality_limit = cardinality_limit
        self.store = store
        self.overflowed = 0  # spans folded into the overflow series
        self._totals: dict[SeriesKey, Cell] = {}
        self._lock = threading.Lock()

    def add(self, spans: Sequence[SpanRecord], now_ns: int | None = None) -> None:
        if not spans:
            return
        bounds = self._bounds_ns
        width = self._cells
        local: dict[SeriesKey, Cell] = {}
        for span in spans:
            key = (span.service, span.name, span.kind, span.status_code)
            cell = local.get(key)
            if cell is None:
                cell = local[key] = [0, 0, [0] * width]
            duration = span.duration_ns
            cell[0] += 1
            cell[1] += duration
            cell[2][bisect_left(bounds, duration)] += 1
        bucket_ns = self.store.bucket_of(time.time_ns() if now_ns is None else now_ns)
        admitted = []
        with self._lock:
            totals = self._totals
            for key, cell in local.items():
                total = totals.get(key)
                if total is None:
                    if len(totals) >= self.cardinality_limit:
                        self.overflowed += cell[0]
                        key = OVERFLOW_KEY
                        total = totals.get(key)
                    if total is None:
                        totals[key] = total = new_cell(width)
                merge_into(total, cell)
                admitted.append((key, cell))
        self.store.add(bucket_ns, admitted)

    def totals(self) -> list[tuple[SeriesKey, Cell]]:
        """A consistent copy of every series' running totals."""
        with self._lock:
            return [(key, [cell[0], cell[1], list(cell[2])]) for key, cell in self._totals.items()]
