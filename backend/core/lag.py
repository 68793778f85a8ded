"""How far behind a receiver is: about how long a sender waits now for its answer.

Receivers take requests in one of two ways.  OTLP/HTTP reads and decodes on its event loop's thread,
one ready connection after another; the gRPC receivers and the legacy HTTP ones (Jaeger Thrift,
Zipkin) hand each request to a pool of worker threads (``LaggingPool``).  Either way, when those
threads get too little of the GIL (searches of the in-process memory store decoding and sorting
beside them) or have more to decode than they can, every sender waits longer for its answer while
the sending queue behind stays short: a queue bound never sees it.  ``ReceiveLag.behind()``, asked
on the receiving thread before each request is decoded (``Consumer.refusal()``), does; it costs a
look-up and a clock read or two.

On a loop, one round decodes every request read in it, so a request's answer waits about a round:
the lag is measured as asyncio itself would notice it, a probe scheduled now (``loop.call_soon``)
runs only once the loop has been through everything already ready.  One probe per loop is in flight
at a time: the first request of a round schedules it.  A request read late in a round may have
arrived just after the previous round began, so it has waited about the previous round (what the
last probe measured) plus this round so far (the age of the probe in flight): that sum is the lag.
The previous round counts only when it decoded more than one request: a lone request's round is its
own decoding, which its sender waited for anyway and which says nothing of a crowd to turn away.

In a pool, requests are decoded side by side, each slowed by the others and by the searches, so the
wait for a free thread is only part of an answer's time.  The pool times each request instead, from
its submission to the end of its work: the lag is the last request's time, or the asking request's
own time so far when that is longer.  A refused request ends at once, so its short time lets the
next one in: the pool admits about as many as it answers within the limit.  The last request's time
counts only while another request is in flight beside the asking one: a sender alone, one request
after another, is never turned away for its previous request's time (one slow request on a busy
machine would otherwise refuse the next, with no load to shed).

Either way, after a pause longer than the last measure the threads were waiting for input, not
behind: that measure no longer counts.

Measured against an OTLP/gRPC flood with searches running (16 senders, 3 searches, 10 s, load
average 4 on two cores): second by second, the mean time of the pool's requests rose and fell with
the median answer the senders saw (0.2-1 s), within 0.3 s of it, while the mean wait for a free
thread was only a quarter to two thirds of it.  How late a thread sleeping a fixed 5 ms tick woke
(the GIL's own hand-over, the same for every receiver) stayed at 40-140 ms at worst while answers
took up to 1.4 s: it says the GIL is contended, not how long senders wait.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_pool = threading.local()  # .current: (the LaggingPool, when the request this worker runs was submitted)


class _Probe:
    __slots__ = ("loop", "sent", "asked", "ran", "lag", "__weakref__")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.sent = 0.0  # when the probe in flight was scheduled; 0: none in flight
        self.asked = 0  # requests decoded in the round the probe in flight measures
        self.ran = 0.0  # when the last probe ran
        self.lag = 0.0  # how long it waited: the previous round, if it decoded more than one request

    def behind(self) -> float:
        now = time.monotonic()
        if not self.sent:
            if now - self.ran > self.lag:
                self.lag = 0.0
            self.sent = now
            self.loop.call_soon(self._ran)
        self.asked += 1
        return self.lag + (now - self.sent)

    def _ran(self) -> None:
        self.ran = time.monotonic()
        self.lag = self.ran - self.sent if self.asked > 1 else 0.0
        self.sent = 0.0
        self.asked = 0


class LaggingPool(ThreadPoolExecutor):
    """A receiver's worker threads, which can tell ``ReceiveLag`` how long its requests take, waits included."""

    def __init__(self, max_workers: int, thread_name_prefix: str) -> None:
        super().__init__(max_workers, thread_name_prefix)
        self._lag = 0.0  # the last request's time from submission to the end of its work
        self._at = 0.0  # when it ended
        self._in_flight = 0  # submitted and not yet ended
        self._count = threading.Lock()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        queued = time.monotonic()

        def timed() -> T:
            _pool.current = (self, queued)
            try:
                return fn(*args, **kwargs)
            finally:
                _pool.current = None
                self._at = time.monotonic()
                self._lag = self._at - queued
                with self._count:
                    self._in_flight -= 1

        with self._count:
            self._in_flight += 1
        try:
            return super().submit(timed)
        except BaseException:  # shut down: it never runs
            with self._count:
                self._in_flight -= 1
            raise

    def behind(self, queued: float) -> float:
        """The last request's time while another is in flight and the pool has not idled longer since, or this
        one's if it is already longer."""
        now = time.monotonic()
        crowded = self._in_flight > 1
        last = self._lag if crowded and now - self._at <= self._lag else 0.0
        return max(last, now - queued)


class ReceiveLag:
    """Lag of whichever thread asks: its event loop's, or its ``LaggingPool``'s; 0 for any other thread."""

    def __init__(self) -> None:
        self._probes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Probe] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def behind(self) -> float:
        """About how many seconds a sender now waits for its answer: the asking thread's loop's round, or the time
        its pool's requests take (a forecast)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            current: tuple[LaggingPool, float] | None = getattr(_pool, "current", None)
            return current[0].behind(current[1]) if current is not None else 0.0
        probe = self._probes.get(loop)
        if probe is None:
            with self._lock:  # loops of other receivers may be adding theirs
                probe = self._probes.setdefault(loop, _Probe(loop))
        return probe.behind()
