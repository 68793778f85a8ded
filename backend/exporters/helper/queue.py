"""The sending queue's bookkeeping: entries waiting for a consumer, entries being delivered, their size in spans.

An entry counts against ``queue_size`` from ``put`` until ``done`` (while a
consumer retries it too), so a storage outage fills the queue and the
exporter refuses at the door instead of holding ever more in memory.  This
class keeps entries in memory; ``PersistentQueue`` adds a write-ahead log
under the same interface.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from backend.spans.model import SpanBatch


class QueueFull(Exception):
    """The batch does not fit in ``queue_size`` (or, for a persistent queue, in the disk quota)."""


@dataclass(slots=True)
class Entry:
    spans: int
    arrived: float  # wall-clock seconds: a replayed entry keeps the age it had before the restart
    batch: SpanBatch | None  # None while it is only on disk (replayed, not yet read back)
    key: int = 0  # the persistent queue's sequence number


class MemoryQueue:
    persistent = False
    survives_power_cut = False  # the persistent queue's log says: then delivered entries are acked only once synced

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._cond = threading.Condition()
        self._ready: deque[Entry] = deque()
        self._oldest_taken: dict[int, float] = {}  # arrival of each entry a consumer holds, by id()
        self._size = 0
        self._ready_spans = 0  # of the entries waiting for a consumer (``_size`` also counts those being delivered)
        self._closed = False
        self._last_put = 0.0  # time.monotonic() of the newest put: a take stops waiting once puts pause

    def size(self) -> int:
        return self._size

    def bytes_on_disk(self) -> int:
        return 0

    def disk_syncs(self) -> int:
        return 0

    def oldest_age(self) -> float:
        """Seconds the oldest entry (waiting or being delivered) has been queued; 0 when empty."""
        with self._cond:
            arrivals = list(self._oldest_taken.values())
            if self._ready:
                arrivals.append(self._ready[0].arrived)
        return max(0.0, time.time() - min(arrivals)) if arrivals else 0.0

    def fits(self, spans: int) -> bool:
        """A batch larger than the whole queue still gets in when the queue is empty."""
        size = self._size
        return not size or size + spans <= self.capacity

    def put(self, batch: SpanBatch) -> None:
        spans = len(batch)
        with self._cond:
            if self._closed or not self.fits(spans):
                raise QueueFull(f"sending queue full ({self._size} of {self.capacity} spans)")
            self._size += spans  # reserved before the (persistent) write, so that concurrent puts respect the bound
        try:
            entry = self._store(batch)
        except BaseException:
            with self._cond:
                self._size -= spans
            raise
        with self._cond:
            self._make_ready(entry)
            self._last_put = time.monotonic()
            self._cond.notify()

    def _make_ready(self, entry: Entry) -> None:
        """Under ``_cond`` (or before any consumer runs): the entry waits for a consumer."""
        self._ready.append(entry)
        self._ready_spans += entry.spans

    def _store(self, batch: SpanBatch) -> Entry:
        return Entry(len(batch), time.time(), batch)

    def take(self, max_spans: int, min_spans: int = 1, linger: float = 0.0, idle: float = 0.0) -> list[Entry]:
        """Block for the next entries, together at most ``max_spans`` (at least one); [] once closed and empty.

        With fewer than ``min_spans`` waiting, wait up to ``linger`` seconds (from the first entry found) for more,
        but (with ``idle`` > 0) only while puts keep coming: ``idle`` seconds without one end the wait.
        """
        with self._cond:
            while not self._ready:
                if self._closed:
                    return []
                self._cond.wait()
            if self._ready_spans < min_spans and linger > 0:
                deadline = time.monotonic() + linger
                while self._ready_spans < min_spans and not self._closed:
                    now = time.monotonic()
                    left = deadline - now
                    if idle > 0:
                        left = min(left, self._last_put + idle - now)
                    if left <= 0:
                        break
                    self._cond.wait(left)
            taken = [self._ready.popleft()]
            spans = taken[0].spans
            while self._ready and spans + self._ready[0].spans <= max_spans:
                entry = self._ready.popleft()
                spans += entry.spans
                taken.append(entry)
            self._ready_spans -= spans
            for entry in taken:
                self._oldest_taken[id(entry)] = entry.arrived
        return taken

    def load(self, entry: Entry) -> SpanBatch:
        assert entry.batch is not None
        return entry.batch

    def done(self, entries: list[Entry]) -> None:
        """The entries were delivered (or given up): they leave the queue for good."""
        self._forget(entries)
        with self._cond:
            for entry in entries:
                self._size -= entry.spans
                self._oldest_taken.pop(id(entry), None)

    def release(self, entries: list[Entry]) -> None:
        """The entries stay stored but leave this run's bookkeeping (a persistent queue replays them on start)."""
        with self._cond:
            for entry in entries:
                self._size -= entry.spans
                self._oldest_taken.pop(id(entry), None)

    def _forget(self, entries: list[Entry]) -> None:
        """Where a persistent queue deletes delivered entries from disk."""

    def close(self) -> None:
        """No more puts; ``take`` hands out what is left, then []."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
