"""The memory plug-in's search index: one service's spans ordered by start time, read without holding writers up.

Search wants the newest matching spans first and usually stops after a few
traces, so scanning every stored trace of a service (and sorting them) on
each query is wasted work.  Evicted spans are not removed one by one: the
owner counts them as ``stale`` and compacts the index once they make up
half of it.

Copy-on-write, so that writers never wait behind a search: the sorted part
is a list nobody changes in place (compaction and merges replace it), and
new spans go to a ``tail`` in arrival order.  Under the owner's lock a
reader only takes a ``Snapshot``: a reference to the sorted part and a copy
of the tail, which is short.  Sorting the tail, slicing the window and
merging happen in the reader's thread after the lock is released; a reader
that merged a long tail offers the result back (``install``), taken only if
nobody replaced the sorted part meanwhile.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable

from backend.spans.model import SpanRecord

# A tail this long (or an eighth of the sorted part, if more) is merged into the sorted part by the reader
# that meets it: below that, filtering it on each read is cheaper than re-sorting the whole part.
_MERGE_AT = 4096


class Snapshot:
    """One service's spans at the moment it was taken; read it without any lock."""

    __slots__ = ("index", "records", "_starts", "tail")

    def __init__(self, index: StartIndex, records: list[SpanRecord], starts: list[int], tail: list[SpanRecord]):
        self.index = index
        self.records = records
        self._starts = starts
        self.tail = tail

    def window(self, start_min_ns: int | None, start_max_ns: int | None) -> list[SpanRecord]:
        """The spans starting inside the bounds (None: unbounded), oldest first; may hold stale ones."""
        low = 0 if start_min_ns is None else bisect_left(self._starts, start_min_ns)
        high = len(self._starts) if start_max_ns is None else bisect_right(self._starts, start_max_ns)
        found = self.records[low:high]
        if self.tail:
            found += [
                record
                for record in self.tail
                if (start_min_ns is None or record.start_ns >= start_min_ns)
                and (start_max_ns is None or record.start_ns <= start_max_ns)
            ]
            found.sort(key=_start)  # two sorted runs at most (spans mostly arrive in order): a merge
        return found

    def merged(self) -> tuple[list[SpanRecord], list[int]] | None:
        """The sorted part with the tail merged in, when the tail is long enough to be worth it; else None."""
        if len(self.tail) < max(_MERGE_AT, len(self.records) // 8):
            return None
        records = self.records + self.tail
        records.sort(key=_start)
        return records, [record.start_ns for record in records]


class StartIndex:
    """Writers call ``add`` and ``compact_if_stale``, readers ``snapshot`` and ``install``, under the owner's lock."""

    __slots__ = ("_records", "_starts", "_tail", "stale")

    def __init__(self) -> None:
        self._records: list[SpanRecord] = []  # sorted by start; replaced, never changed in place
        self._starts: list[int] = []
        self._tail: list[SpanRecord] = []  # added since, in arrival order
        self.stale = 0

    def __len__(self) -> int:
        return len(self._records) + len(self._tail)

    def add(self, record: SpanRecord) -> None:
        self._tail.append(record)

    def snapshot(self) -> Snapshot:
        return Snapshot(self, self._records, self._starts, list(self._tail))

    def install(self, snapshot: Snapshot, records: list[SpanRecord], starts: list[int]) -> None:
        """Take a reader's merge of ``snapshot``, unless the sorted part was replaced since it was taken."""
        if self._records is snapshot.records:
            del self._tail[: len(snapshot.tail)]  # the tail only grew at its end since
            self._records, self._starts = records, starts

    def compact_if_stale(self, is_stored: Callable[[SpanRecord], bool]) -> None:
        """Drop evicted spans once they are half of the index, keeping order."""
        if self.stale * 2 <= len(self):
            return
        self._records = [record for record in self._records if is_stored(record)]
        self._starts = [record.start_ns for record in self._records]
        self._tail = [record for record in self._tail if is_stored(record)]
        self.stale = 0


def _start(record: SpanRecord) -> int:
    return record.start_ns
