"""A mutex that tells the trace whom it waited behind.

HotROD's customer database hands out one connection at a time. Waiting for it is invisible in
a trace unless the wait is a span of its own, and the span is only useful if it says which
requests were ahead: those come from the ``request`` baggage item the page sets.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import baggage, trace

log = logging.getLogger(__name__)


class TracedLock:
    def __init__(self, tracer: trace.Tracer, baggage_key: str = "request") -> None:
        self._tracer = tracer
        self._baggage_key = baggage_key
        self._lock = threading.Lock()
        self._books = threading.Lock()  # guards holder and waiters
        self._holder: str | None = None
        self._waiters: list[str] = []

    @contextmanager
    def hold(self) -> Iterator[None]:
        me = str(baggage.get_baggage(self._baggage_key) or "unknown")
        with self._books:
            acquired = self._lock.acquire(blocking=False)
            if acquired:
                self._holder = me
            else:
                blockers = [b for b in (self._holder, *self._waiters) if b is not None]
                self._waiters.append(me)
        if not acquired:
            self._wait(me, blockers)
        try:
            yield
        finally:
            with self._books:
                self._holder = None
                self._lock.release()

    def _wait(self, me: str, blockers: list[str]) -> None:
        with self._tracer.start_as_current_span("wait for db connection") as span:
            span.set_attribute("hotrod.blockers", blockers)
            span.set_attribute("hotrod.queue_length", len(blockers))
            log.info("Waiting for lock behind %d transactions", len(blockers), extra={"blockers": ", ".join(blockers)})
            self._lock.acquire()
            with self._books:
                self._waiters.remove(me)
                self._holder = me
