"""The ``batch`` processor: a bounded queue between receivers and exporters.

Receivers answer as soon as a batch is queued, so a request costs decoding,
not a storage write; worker threads (``workers``, default one) group what is
queued into batches of up to ``send_batch_size`` spans and hand them to the
next consumer.

``timeout`` is how long a worker waits for a batch to fill.  The default
here is 0: a free worker takes whatever is queued at once, and batches grow
with the load by themselves, because what arrives during one write goes
out in the next.  Spans become queryable as soon as storage can take them
(the OpenTelemetry Collector waits 200 ms by default, to fill requests to a
remote backend; at the end of a burst that is 200 ms before the last spans
are stored, ~20% of a 200,000-span run of benchmarks/ingest.py, which went
from about 1.0x to 1.2x of decode-and-walk on memory with 0).  A positive value
restores the Collector's behaviour, for exporters that pay per request.

The queue is bounded in spans: when a batch does not fit, ``consume`` raises
``Refused`` at once, so memory never grows and receiver threads never wait
on storage.  A batch the next step refuses (its sending queue full, a Redis
stream full, a failure) is never dropped: the worker keeps it and offers it
again every ``RETRY_STEP`` seconds, and meanwhile this processor refuses
everything upstream with the next step's own answer (429 or 503), so
senders retry rather than fill the queue behind a blocked step.  On
shutdown the workers deliver everything queued before they stop, giving up
(counted in ``otelcol_processor_dropped_spans``) only when the next step
still refuses after ``drain_timeout``.

Its success answer means "in this process's memory": in front of an
exporter with a persistent sending queue it weakens that exporter's "on
disk" to "queued", so the shipped configs leave it out and let the
exporter's sending queue batch instead.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from backend.core.binding import ConfigError, Duration, bind, require_at_least_one
from backend.core.component import (
    Consumer,
    Host,
    Processor,
    ProcessorFactory,
    Refused,
    Settings,
    SizesByLastBatch,
    Stage,
)
from backend.spans.model import SpanBatch


@dataclass
class BatchOptions:
    send_batch_size: int = 8192
    timeout: Duration = Duration(0)  # see the module docstring
    queue_size: int = 200_000  # spans
    retry_after: Duration = Duration(1_000_000_000)  # the hint sent with a refusal
    # threads delivering batches at once.  PostgreSQL takes parallel writes (about 2x the spans/s with 4
    # than with 1 in benchmarks/ingest.py); SQLite has one writer, and its waiting writers poll the lock
    # with sleeps, so more than one worker only slows it down.
    workers: int = 1
    drain_timeout: Duration = Duration(30_000_000_000)  # at shutdown, how long a refusing next step is retried


RETRY_STEP = 0.05  # seconds between offers of a refused batch: a refusal costs the next step almost nothing


def _options(raw: Any, where: str) -> BatchOptions:
    options = bind(BatchOptions, raw, where)
    require_at_least_one(options, ("send_batch_size", "queue_size", "workers"), where)
    if options.timeout < 0:
        raise ConfigError(f"{where}.timeout", "expected 0 (write at once) or a duration such as 200ms")
    return options


class BatchProcessor(SizesByLastBatch, Stage[BatchOptions], Processor):
    def __init__(self, settings: Settings, options: BatchOptions, next_consumer: Consumer):
        super().__init__(settings, options, next_consumer)
        self._queue: deque[SpanBatch] = deque()
        self._queued = 0
        self._oldest = 0.0  # monotonic time the oldest queued batch arrived
        self._cond = threading.Condition()
        self._stopping = False
        self._blocked: Refused | None = None  # what the next step answered a worker, until it takes the batch
        self._workers: list[threading.Thread] = []
        self._gauge = settings.metrics.queue_size.labels(settings.id)
        self._dropped = settings.metrics.dropped.labels(settings.id)
        settings.metrics.queue_capacity.labels(settings.id).set(options.queue_size)

    def start(self, host: Host) -> None:
        for number in range(self._options.workers):
            worker = threading.Thread(target=self._run, name=f"{self._settings.id}-worker-{number}", daemon=True)
            worker.start()
            self._workers.append(worker)

    def consume(self, batch: SpanBatch) -> None:
        count = self._offered(batch)
        if not count:
            return
        with self._cond:
            refused = self._refusal(count)
            if refused is not None:
                raise refused
            if not self._queue:
                self._oldest = time.monotonic()
            self._queue.append(batch)
            self._queued += count
            self._gauge.set(self._queued)
            if self._queued >= self._options.send_batch_size:
                self._cond.notify()
            elif len(self._queue) == 1:
                self._cond.notify()  # the worker starts the timeout clock

    def refusal(self) -> Refused | None:
        """Refused when a batch as large as the last one would not fit; read without the lock, a forecast."""
        return self._refusal(self._last_count)

    def _refusal(self, count: int) -> Refused | None:
        if self._stopping:
            return Refused("the backend is shutting down", self._options.retry_after / 1e9, overloaded=False)
        blocked = self._blocked
        if blocked is not None:
            return blocked
        queued = self._queued
        # A request larger than the whole queue still gets in when the queue is empty.
        if queued and queued + count > self._options.queue_size:
            return Refused(
                f"queue full ({queued} of {self._options.queue_size} spans waiting for storage)",
                self._options.retry_after / 1e9,
            )
        return None

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._hand_on(batch)

    def _hand_on(self, batch: SpanBatch) -> None:
        """Offer ``batch`` to the next step until it takes it (or shutdown's drain_timeout runs out)."""
        deadline: float | None = None
        retry_after = self._options.retry_after / 1e9
        while True:
            try:
                self._next.consume(batch)
            except Refused as exc:
                self._blocked = exc
            except Exception as exc:
                self._settings.logger.exception("the next step failed on %d span(s); keeping them", len(batch))
                self._blocked = Refused(f"the pipeline failed: {exc}", retry_after, overloaded=False)
            else:
                self._blocked = None
                return
            if self._stopping:
                deadline = deadline or time.monotonic() + self._options.drain_timeout / 1e9
                if time.monotonic() > deadline:
                    self._dropped.inc(len(batch))
                    self._settings.logger.error("lost %d span(s): refused by the next step until shutdown", len(batch))
                    return
            time.sleep(RETRY_STEP)

    def _next_batch(self) -> SpanBatch | None:
        """Wait for a full batch, the timeout, or shutdown; None when stopping with nothing left."""
        size = self._options.send_batch_size
        with self._cond:
            while True:
                if self._queue and (self._stopping or self._queued >= size):
                    break
                if not self._queue and self._stopping:
                    return None
                if self._queue:
                    remaining = self._oldest + self._options.timeout / 1e9 - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                else:
                    self._cond.wait()
            first = self._queue.popleft()
            taken = len(first)
            parts = [first]
            while self._queue and taken + len(self._queue[0]) <= size:
                part = self._queue.popleft()
                taken += len(part)
                parts.append(part)
            self._queued -= taken
            self._oldest = time.monotonic()
            self._gauge.set(self._queued)
        if len(parts) == 1:
            return first
        merged = SpanBatch()
        for part in parts:
            merged.extend(part)
        return merged

    def shutdown(self) -> None:
        """Refuse new batches, deliver every queued one, then return."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for worker in self._workers:
            worker.join()
        self._workers.clear()


FACTORY = ProcessorFactory("batch", _options, BatchProcessor)
