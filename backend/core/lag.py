"""How far behind a receiver is: the wait a request that arrives now has before a thread starts on it.

Receivers take requests in one of two ways.  OTLP/HTTP reads and decodes on its event loop's thread,
one ready connection after another; the gRPC receivers and the legacy HTTP ones (Jaeger Thrift,
Zipkin) hand each request to a pool of worker threads (``LaggingPool``), where it waits its turn.
Either way, when those threads get too little of the GIL (searches of the in-process memory store
decoding and sorting beside them) or have more to decode than they can, every sender waits longer
for its answer while the sending queue behind stays short: a queue bound never sees it.  The wait
in front of the threads does, measured as the threads themselves would notice it: a probe scheduled
now (``loop.call_soon``, or submitted to the pool) runs only once everything ahead of it has.

``ReceiveLag.behind()`` is asked on the receiving thread before each request is decoded
(``Consumer.refusal()``); it costs a look-up, a lock and a clock read.  One probe per loop or pool is
in flight at a time: the first request of a round schedules it.  A request read late in a round may
have arrived just after the previous round began, so it has waited about the previous round (what
the last probe measured) plus this round so far (the age of the probe in flight): that sum is the
lag.  After a pause longer than the last round, the threads were waiting for input, not behind:
that round no longer counts.

Measured against an OTLP/gRPC flood with searches running (16 senders, 3 searches, 10 s, load average
4 on two cores): second by second, the mean wait in the pool was a quarter to two thirds of the
median answer the senders saw (0.2-1 s) and rose and fell with it.  How late a thread sleeping a
fixed 5 ms tick woke (the GIL's own hand-over, the same for every receiver) stayed at 40-140 ms at
worst while answers took up to 1.4 s: it says the GIL is contended, not how long senders wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

_pool = threading.local()  # .probe: the probe of the LaggingPool whose worker this thread is


class _Probe:
    """The lag of one loop or pool, kept from the probes it runs; ``schedule`` hands it a callable to run."""

    __slots__ = ("schedule", "sent", "ran", "lag", "lock", "__weakref__")

    def __init__(self, schedule: Callable[[Callable[[], None]], object]) -> None:
        self.schedule = schedule
        self.sent = 0.0  # when the probe in flight was scheduled; 0: none in flight
        self.ran = 0.0  # when the last probe ran
        self.lag = 0.0  # how long it waited: the previous round
        self.lock = threading.Lock()  # a pool's workers ask at once

    def behind(self) -> float:
        with self.lock:
            now = time.monotonic()
            if not self.sent:
                if now - self.ran > self.lag:
                    self.lag = 0.0
                self.sent = now
                self.schedule(self._ran)
            return self.lag + (now - self.sent)

    def _ran(self) -> None:
        with self.lock:
            self.ran = time.monotonic()
            self.lag = self.ran - self.sent
            self.sent = 0.0


class LaggingPool(ThreadPoolExecutor):
    """A receiver's worker threads, which can tell ``ReceiveLag`` how long work waits for one of them."""

    def __init__(self, max_workers: int, thread_name_prefix: str) -> None:
        super().__init__(max_workers, thread_name_prefix, initializer=self._enter)
        self._probe = _Probe(self._submit_probe)

    def _enter(self) -> None:
        _pool.probe = self._probe

    def _submit_probe(self, ran: Callable[[], None]) -> None:
        with contextlib.suppress(RuntimeError):  # shut down: no more rounds to measure
            self.submit(ran)


class ReceiveLag:
    """Lag of whichever thread asks: its event loop's, or its ``LaggingPool``'s; 0 for any other thread."""

    def __init__(self) -> None:
        self._probes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Probe] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def behind(self) -> float:
        """Seconds a request arriving now waits before the asking thread's loop or pool starts on it (a forecast)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            pooled: _Probe | None = getattr(_pool, "probe", None)
            return pooled.behind() if pooled is not None else 0.0
        probe = self._probes.get(loop)
        if probe is None:
            with self._lock:  # loops of other receivers may be adding theirs
                probe = self._probes.setdefault(loop, _Probe(loop.call_soon))
        return probe.behind()
