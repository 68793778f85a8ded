"""The sending queue's batching: with fewer than ``min_size`` spans queued, a consumer waits (up to
``flush_timeout``, and only while puts keep coming: ``idle_timeout``) for more and takes them together; closing the
queue ends the wait with what is there.

The consumer's wait is observed on the queue's condition (a consumer waiting on it again after being woken by a
put), not by sleeping."""

from __future__ import annotations

import threading

from backend.exporters.helper.queue import Entry, MemoryQueue
from tests.backend.test_sending_queue import spans
from tests.support import wait_for


class Taker:
    """``queue.take`` on a thread of its own; what it took."""

    def __init__(self, queue: MemoryQueue, min_spans: int, linger: float, idle: float = 0.0) -> None:
        self.taken: list[Entry] | None = None
        self._thread = threading.Thread(target=self._take, args=(queue, min_spans, linger, idle), daemon=True)
        self._thread.start()

    def _take(self, queue: MemoryQueue, min_spans: int, linger: float, idle: float) -> None:
        self.taken = queue.take(1000, min_spans, linger, idle)

    def join(self) -> list[int]:
        self._thread.join(timeout=30)
        assert self.taken is not None, "take did not return"
        return [entry.spans for entry in self.taken]


def waiting_consumers(queue: MemoryQueue) -> int:
    return len(queue._cond._waiters)  # type: ignore[attr-defined]  # threading.Condition's own list


def put_10_then_20_while_it_waits(queue: MemoryQueue) -> None:
    """Two puts, each once the consumer is waiting: for a first entry, then for more."""
    wait_for(lambda: waiting_consumers(queue) == 1, timeout=10, what="the consumer waiting for a first entry")
    queue.put(spans(10))
    wait_for(lambda: waiting_consumers(queue) == 1, timeout=10, what="the consumer waiting for more")
    queue.put(spans(20))


def test_a_consumer_with_fewer_than_min_size_spans_waits_for_more_and_takes_them_together():
    queue = MemoryQueue(10_000)
    taker = Taker(queue, min_spans=30, linger=30)
    put_10_then_20_while_it_waits(queue)

    assert taker.join() == [10, 20]


def test_closing_the_queue_ends_the_wait_with_what_is_queued():
    queue = MemoryQueue(10_000)
    queue.put(spans(10))
    taker = Taker(queue, min_spans=1000, linger=30)
    wait_for(lambda: waiting_consumers(queue) == 1, timeout=10, what="the consumer waiting for more")
    queue.close()

    assert taker.join() == [10]


def test_the_wait_ends_after_flush_timeout_with_what_is_queued():
    queue = MemoryQueue(10_000)
    queue.put(spans(10))

    assert [entry.spans for entry in queue.take(1000, 1000, 0.01)] == [10]


def test_puts_that_keep_coming_within_idle_timeout_keep_the_consumer_waiting_for_more():
    queue = MemoryQueue(10_000)
    taker = Taker(queue, min_spans=30, linger=600, idle=60)
    put_10_then_20_while_it_waits(queue)

    assert taker.join() == [10, 20]


def test_a_pause_in_puts_longer_than_idle_timeout_ends_the_wait_long_before_flush_timeout():
    queue = MemoryQueue(10_000)
    taker = Taker(queue, min_spans=1000, linger=600, idle=0.05)
    queue.put(spans(10))

    assert taker.join() == [10]  # join gives up after 30 s: a consumer that waited out the 600 s linger fails here
