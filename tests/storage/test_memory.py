"""What only the memory plug-in does: bounded by a number of traces, oldest evicted first."""

from __future__ import annotations

from backend.storage.api import TraceQuery
from backend.storage.factory import create_storage
from backend.storage.memory.store import MemoryOptions, MemoryStorage
from tests.builders import SpanSpec, batch_of


def test_the_oldest_trace_is_evicted_when_max_traces_is_reached():
    storage = MemoryStorage(MemoryOptions(max_traces=2))
    first, second, third = SpanSpec("a", "op"), SpanSpec("a", "op"), SpanSpec("b", "op")
    for spec in (first, second, third):
        storage.write(batch_of([spec]))

    assert storage.get_trace(first.trace_id) is None
    assert storage.get_trace(second.trace_id) is not None
    assert storage.get_trace(third.trace_id) is not None


def test_an_evicted_trace_is_no_longer_found_by_service():
    storage = MemoryStorage(MemoryOptions(max_traces=1))
    old, new = SpanSpec("a", "op"), SpanSpec("a", "op")
    storage.write(batch_of([old]))
    storage.write(batch_of([new]))

    assert storage.find_trace_ids(TraceQuery(service="a")) == [new.trace_id]


def test_spans_added_to_a_stored_trace_do_not_count_as_a_new_trace():
    storage = MemoryStorage(MemoryOptions(max_traces=1))
    root = SpanSpec("a", "op")
    storage.write(batch_of([root]))
    storage.write(batch_of([root.child("b", "op")]))

    assert len(storage.get_trace(root.trace_id).spans) == 2


def test_max_traces_is_an_option_of_the_memory_kind():
    storage = create_storage("memory", {"max_traces": 1}, "test")
    first, second = SpanSpec("a", "op"), SpanSpec("a", "op")
    storage.writer().write(batch_of([first]))
    storage.writer().write(batch_of([second]))

    assert storage.reader().get_trace(first.trace_id) is None


def test_search_after_many_evictions_finds_exactly_the_stored_traces_newest_first():
    storage = MemoryStorage(MemoryOptions(max_traces=5))
    specs = [SpanSpec("a", "op", start_ns=1_000_000 + i) for i in range(50)]
    for spec in reversed(specs[25:]):
        storage.write(batch_of([spec]))
    for spec in specs[:25]:
        storage.write(batch_of([spec]))

    assert storage.find_trace_ids(TraceQuery(service="a", limit=10)) == [s.trace_id for s in reversed(specs[20:25])]


def test_a_trace_stored_again_after_eviction_is_found_once():
    storage = MemoryStorage(MemoryOptions(max_traces=1))
    again, other = SpanSpec("a", "op", start_ns=2), SpanSpec("a", "op", start_ns=1)
    storage.write(batch_of([again]))
    storage.write(batch_of([other]))
    storage.write(batch_of([again]))

    assert storage.find_trace_ids(TraceQuery(service="a")) == [again.trace_id]
