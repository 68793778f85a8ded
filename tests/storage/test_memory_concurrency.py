"""The memory store under concurrent use: a search never holds a write up, and merges keep the index whole.

The search is held at a known point (the sort key of its window, which runs
once it has taken its snapshot) by a key function that waits for the test,
so what is asserted is the order of events, not how long anything took.
"""

from __future__ import annotations

import threading

import pytest

from backend.storage.api import TraceQuery
from backend.storage.memory import index as memory_index
from backend.storage.memory.store import MemoryOptions, MemoryStorage
from tests.builders import SpanSpec, batch_of

BASE = 1_700_000_000_000_000_000


class HeldSort:
    """A sort key that stops the first search to use it until ``release`` is set."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self._held = False

    def __call__(self, record) -> int:  # noqa: ANN001 - SpanRecord
        if not self._held:
            self._held = True
            self.entered.set()
            assert self.release.wait(30), "the test never released the search"
        return record.start_ns


def test_a_write_goes_through_while_a_search_sorts_its_window(monkeypatch: pytest.MonkeyPatch):
    storage = MemoryStorage(MemoryOptions(max_traces=1000))
    older = [SpanSpec("svc", "op", start_ns=BASE + i) for i in (3, 1, 2)]  # out of order: the window is sorted
    storage.write(batch_of(older))
    held = HeldSort()
    monkeypatch.setattr(memory_index, "_start", held)
    found: list[list[bytes]] = []
    search = threading.Thread(target=lambda: found.append(storage.find_trace_ids(TraceQuery(service="svc"))))
    search.start()
    try:
        assert held.entered.wait(10), "the search never reached its sort"
        newer = SpanSpec("svc", "op", start_ns=BASE + 10)
        writer = threading.Thread(target=storage.write, args=(batch_of([newer]),))
        writer.start()
        writer.join(10)

        assert not writer.is_alive(), "the write waited for the search"
    finally:
        held.release.set()
        search.join(10)
    assert found == [[spec.trace_id for spec in sorted(older, key=lambda s: -s.start_ns)]]  # its snapshot's spans
    assert storage.find_trace_ids(TraceQuery(service="svc"))[0] == newer.trace_id


def test_a_long_tail_merged_by_a_search_leaves_every_span_findable_in_order():
    storage = MemoryStorage(MemoryOptions(max_traces=100_000))
    specs = [SpanSpec("svc", "op", start_ns=BASE + (i * 7919) % 10_007) for i in range(10_000)]  # shuffled starts
    for chunk in range(0, len(specs), 500):
        storage.write(batch_of(specs[chunk : chunk + 500]))

    first = storage.find_trace_ids(TraceQuery(service="svc", limit=len(specs)))  # merges the tail into the index
    late = SpanSpec("svc", "op", start_ns=BASE - 1)  # after the merge, the oldest of all
    storage.write(batch_of([late]))
    second = storage.find_trace_ids(TraceQuery(service="svc", limit=len(specs) + 1))

    newest_first = [spec.trace_id for spec in sorted(specs, key=lambda s: -s.start_ns)]
    assert first == newest_first
    assert second == [*newest_first, late.trace_id]
    window = TraceQuery(service="svc", start_min_ns=BASE + 100, start_max_ns=BASE + 199, limit=1000)
    assert set(storage.find_trace_ids(window)) == {s.trace_id for s in specs if 100 <= s.start_ns - BASE <= 199}


def test_max_pending_spans_must_be_positive():
    with pytest.raises(ValueError, match="max_pending_spans"):
        MemoryOptions(max_pending_spans=0)
