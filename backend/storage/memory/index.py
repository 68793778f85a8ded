"""The memory plug-in's search index: one service's spans ordered by start time.

Search wants the newest matching spans first and usually stops after a few
traces, so scanning every stored trace of a service (and sorting them) on
each query is wasted work.  Spans mostly arrive in start order, so the index
appends and sorts only when needed (Timsort is near-linear on nearly sorted
input).  Evicted spans are not removed one by one: the owner counts them as
``stale`` and compacts the index once they make up half of it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable

from backend.spans.model import SpanRecord


class StartIndex:
    __slots__ = ("_starts", "_records", "_sorted", "stale")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._records: list[SpanRecord] = []
        self._sorted = True
        self.stale = 0

    def __len__(self) -> int:
        return len(self._records)

    def add(self, record: SpanRecord) -> None:
        if self._starts and record.start_ns < self._starts[-1]:
            self._sorted = False
        self._starts.append(record.start_ns)
        self._records.append(record)

    def window(self, start_min_ns: int | None, start_max_ns: int | None) -> list[SpanRecord]:
        """A copy of the spans starting inside the bounds (None: unbounded), oldest first; may hold stale ones."""
        if not self._sorted:
            self._records.sort(key=_start)
            self._starts = [record.start_ns for record in self._records]
            self._sorted = True
        low = 0 if start_min_ns is None else bisect_left(self._starts, start_min_ns)
        high = len(self._starts) if start_max_ns is None else bisect_right(self._starts, start_max_ns)
        return self._records[low:high]

    def compact_if_stale(self, is_stored: Callable[[SpanRecord], bool]) -> None:
        """Drop evicted spans once they are half of the index, keeping order."""
        if self.stale * 2 <= len(self._records):
            return
        self._records = [record for record in self._records if is_stored(record)]
        self._starts = [record.start_ns for record in self._records]
        self.stale = 0


def _start(record: SpanRecord) -> int:
    return record.start_ns
