"""A bounded in-process time-series store: per time bucket, the counts of every series active in it.

Buckets are ``resolution`` wide and kept for ``retention``, so the store holds
at most ``retention / resolution`` buckets of at most the aggregator's
cardinality limit (plus the overflow series) each.  Buckets touched since the
last ``take_dirty`` are remembered so persistence writes only what changed.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

from backend.processors.spanmetrics.series import Cell, SeriesKey, merge_into, new_cell

Bucket = dict[SeriesKey, Cell]

GroupT = TypeVar("GroupT", bound=Hashable)


class TimeSeriesStore:
    def __init__(self, resolution_ns: int, retention_ns: int, bounds_ms: tuple[float, ...]) -> None:
        self.resolution_ns = resolution_ns
        self.retention_ns = retention_ns
        self.bounds_ms = bounds_ms  # upper bounds of the duration histogram's finite buckets
        self.bucket_count = len(bounds_ms) + 1  # histogram buckets per cell, +Inf included
        self._buckets: dict[int, Bucket] = {}
        self._dirty: set[int] = set()
        self._lock = threading.Lock()

    def bucket_of(self, time_ns: int) -> int:
        return time_ns - time_ns % self.resolution_ns

    def add(self, bucket_ns: int, cells: Iterable[tuple[SeriesKey, Cell]]) -> None:
        with self._lock:
            bucket = self._buckets.get(bucket_ns)
            if bucket is None:
                bucket = self._buckets[bucket_ns] = {}
            for key, cell in cells:
                target = bucket.get(key)
                if target is None:
                    bucket[key] = copy.deepcopy(cell)
                else:
                    merge_into(target, cell)
            self._dirty.add(bucket_ns)

    def load(self, rows: Iterable[tuple[int, SeriesKey, Cell]]) -> int:
        """Add persisted history (not marked dirty: it is stored already); returns the rows taken."""
        taken = 0
        with self._lock:
            for bucket_ns, key, cell in rows:
                if len(cell[2]) != self.bucket_count:
                    continue  # written with other histogram bounds: cannot be merged
                bucket = self._buckets.setdefault(bucket_ns, {})
                target = bucket.setdefault(key, new_cell(self.bucket_count))
                merge_into(target, cell)
                taken += 1
        return taken

    def replace(self, rows: Iterable[tuple[int, SeriesKey, Cell]]) -> int:
        """Set every bucket that ``rows`` has to exactly its rows (a reader following persisted history)."""
        fresh: dict[int, Bucket] = {}
        for bucket_ns, key, cell in rows:
            if len(cell[2]) == self.bucket_count:
                fresh.setdefault(bucket_ns, {})[key] = cell
        with self._lock:
            self._buckets.update(fresh)
        return sum(len(bucket) for bucket in fresh.values())

    def take_dirty(self) -> dict[int, Bucket]:
        """Copies of the buckets changed since the last call, for persistence."""
        with self._lock:
            changed = {b: copy.deepcopy(self._buckets[b]) for b in self._dirty if b in self._buckets}
            self._dirty.clear()
        return changed

    def mark_dirty(self, buckets: Iterable[int]) -> None:
        """Ask for ``buckets`` again at the next ``take_dirty`` (their save failed)."""
        with self._lock:
            self._dirty.update(b for b in buckets if b in self._buckets)

    def trim(self, now_ns: int) -> None:
        """Forget buckets that ended before ``now - retention``."""
        cutoff = now_ns - self.retention_ns
        with self._lock:
            for bucket_ns in [b for b in self._buckets if b + self.resolution_ns <= cutoff]:
                del self._buckets[bucket_ns]
                self._dirty.discard(bucket_ns)

    def select(
        self, start_ns: int, end_ns: int, group_of: Callable[[SeriesKey], GroupT | None]
    ) -> dict[GroupT, list[tuple[int, Cell]]]:
        """Per group, ``(bucket start, summed cell)`` in time order for buckets starting in ``[start, end]``.

        ``group_of`` names the group a series belongs to, or ``None`` to leave it out.
        """
        groups: dict[GroupT, dict[int, Cell]] = {}
        with self._lock:
            for bucket_ns, bucket in self._buckets.items():
                if not start_ns <= bucket_ns <= end_ns:
                    continue
                for key, cell in bucket.items():
                    group = group_of(key)
                    if group is None:
                        continue
                    per_time = groups.setdefault(group, {})
                    target = per_time.get(bucket_ns)
                    if target is None:
                        per_time[bucket_ns] = target = new_cell(self.bucket_count)
                    merge_into(target, cell)
        return {group: sorted(per_time.items()) for group, per_time in groups.items()}

    def __len__(self) -> int:
        return len(self._buckets)
