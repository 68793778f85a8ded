"""The ``tail_sampling`` processor: hold each trace for ``decision_wait``, then keep it or not by its policies.

Spans are grouped by trace as they arrive.  ``decision_wait`` after a trace's
first span, every policy votes on what has arrived (each vote is counted, per
policy); the trace is sampled when at least one policy votes for it, and its
spans go to the next consumer in one batch with the other traces decided at
the same time.  Spans arriving after the decision follow it while the trace
id is remembered (the last ``num_traces`` decisions); later ones start a new
trace, as in the Collector.

Memory is bounded by ``num_traces``: traces held, undecided or sampled and not
yet taken by the next consumer.  When a new trace would pass the bound, the
oldest undecided traces are decided at once, with what they have so far
(counted in ``..._sampling_trace_decided_early``), instead of being dropped
as the Collector drops them: under overload a failing trace still gets its
vote.  If that cannot make room (every held trace is sampled and waiting for
the next consumer), the batch is refused whole (``Refused``: the sender
retries), as the batch processor refuses when full.

Nothing sampled is dropped when the next consumer refuses or fails: the
traces stay held and the delivery is retried after the consumer's
``retry_after`` (or this processor's); while they wait they take room, so a
consumer that keeps failing makes this processor refuse new traces upstream.
Only at shutdown, after ``SHUTDOWN_RETRY_S`` of failed retries, are the
remaining spans counted in ``otelcol_processor_dropped_spans`` and logged.
On shutdown undecided traces are decided with what they have, as the Collector
does by default.

A batch whose sender waits for its delivery (``on_stored``: a Redis-stream
ingester acknowledging entries) is reported delivered once taken here: its
spans are regrouped by trace and held in memory, so keep this processor in
front of a durable step (a collector's pipeline), not in an ingester's.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from backend.core.component import Consumer, Host, Processor, ProcessorFactory, Refused, Settings, Stage
from backend.processors.tail_sampling.config import TailSamplingOptions, parse_options
from backend.processors.tail_sampling.metrics import metrics_for
from backend.processors.tail_sampling.policies import Policy, build
from backend.processors.tail_sampling.trace import HeldTrace, to_batch
from backend.spans.model import SpanBatch, SpanRecord

SHUTDOWN_RETRY_S = 10.0
DELIVERY_SPANS = 8192  # spans handed to the next consumer per call, at most
_DECIDE_CHUNK = 512  # traces decided per hold of the lock, so receivers wait at most that long


def _labels(sampled: bool) -> tuple[str, str]:
    """The Collector's ``sampled`` and ``decision`` label values."""
    return ("true", "sampled") if sampled else ("false", "not_sampled")


class TailSamplingProcessor(Stage[TailSamplingOptions], Processor):
    def __init__(
        self,
        settings: Settings,
        options: TailSamplingOptions,
        next_consumer: Consumer,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(settings, options, next_consumer)
        self._clock = clock
        self._wait_s = options.decision_wait / 1e9
        self._retry_s = options.retry_after / 1e9
        metrics = metrics_for(settings.metrics.registry)
        pid = settings.id
        self._policies: list[tuple[str, Policy, dict[bool, Any]]] = []
        for config in options.policies:
            votes = {
                sampled: metrics.policy_traces.labels(pid, config.name, *_labels(sampled)) for sampled in (True, False)
            }
            self._policies.append((config.name, build(config, clock), votes))
        self._global = {sampled: metrics.global_traces.labels(pid, *_labels(sampled)) for sampled in (True, False)}
        self._new_traces = metrics.new_traces.labels(pid)
        self._decided_early = metrics.decided_early.labels(pid)
        self._errors = metrics.evaluation_errors
        self._on_memory = metrics.on_memory.labels(pid)
        self._dropped = settings.metrics.dropped.labels(pid)
        self._cond = threading.Condition()
        self._pending: OrderedDict[bytes, HeldTrace] = OrderedDict()  # undecided, oldest first
        self._outbox: list[HeldTrace] = []  # sampled, not yet taken by the next consumer
        self._decided: OrderedDict[bytes, bool] = OrderedDict()  # the last num_traces decisions, for late spans
        self._retry_at = 0.0  # no delivery before this (monotonic), after a refusal
        self._stopping = False
        self._give_up_at = 0.0  # when stopping: the sampled traces still held then are dropped
        self._worker: threading.Thread | None = None

    @property
    def held(self) -> int:
        """Traces held now: undecided, or sampled and waiting for the next consumer."""
        return len(self._pending) + len(self._outbox)

    def start(self, host: Host) -> None:
        expected = self._options.expected_new_traces_per_sec * self._wait_s
        if expected > self._options.num_traces:
            self._settings.logger.warning(
                "expected_new_traces_per_sec x decision_wait is %d traces, more than num_traces (%d): "
                "traces will be decided before decision_wait",
                expected,
                self._options.num_traces,
            )
        self._worker = threading.Thread(target=self._run, name=f"{self._settings.id}-decide", daemon=True)
        self._worker.start()

    # Receiving

    def consume(self, batch: SpanBatch) -> None:
        groups: dict[bytes, list[SpanRecord]] = {}
        for span in batch.spans:
            group = groups.get(span.trace_id)
            if group is None:
                groups[span.trace_id] = [span]
            else:
                group.append(span)
        if not groups:
            batch.stored()
            return
        with self._cond:
            if self._stopping:
                raise Refused("the backend is shutting down", self._retry_s, overloaded=False)
            pending, decided = self._pending, self._decided
            # traces this batch adds to what is held: new ones, and late spans of sampled ones
            incoming = sum(1 for tid in groups if tid not in pending and decided.get(tid) is not False)
            limit = self._options.num_traces
            while self.held + incoming > limit and pending:
                tid, sampled = self._decide_early()
                if sampled and tid in groups:
                    incoming += 1  # its spans in this batch are now late spans of a sampled trace
            # A batch with more new traces than num_traces gets in when nothing else is held (as in batch).
            if self.held + incoming > limit and self.held:
                self._cond.notify_all()
                raise Refused(f"{self.held} sampled traces are waiting for the next consumer", self._retry_s)
            now = self._clock()
            for tid, spans in groups.items():
                trace = pending.get(tid)
                if trace is not None:
                    trace.add(spans, batch.processes)
                elif tid in decided:
                    if decided[tid]:
                        late = HeldTrace(tid, now)
                        late.add(spans, batch.processes)
                        self._outbox.append(late)
                else:
                    trace = pending[tid] = HeldTrace(tid, now)
                    trace.add(spans, batch.processes)
                    self._new_traces.inc()
            self._on_memory.set(self.held)
            self._cond.notify_all()
        batch.stored()  # see the module docstring: held traces are in memory, whoever waits for them is told now

    def refusal(self) -> Refused | None:
        """Refused while shutting down or while every held trace is sampled and waiting; a forecast, lock-free."""
        if self._stopping:
            return Refused("the backend is shutting down", self._retry_s, overloaded=False)
        if not self._pending and len(self._outbox) >= self._options.num_traces:
            return Refused(f"{len(self._outbox)} sampled traces are waiting for the next consumer", self._retry_s)
        return None

    # Deciding (callers hold the lock)

    def _decide(self, trace: HeldTrace) -> bool:
        sampled = False
        for name, policy, votes in self._policies:
            try:
                vote = policy.sample(trace)
            except Exception:
                self._settings.logger.exception("policy %r could not evaluate a trace", name)
                self._errors.labels(self._settings.id, name).inc()
                vote = False
            votes[vote].inc()
            sampled = sampled or vote
        self._global[sampled].inc()
        self._decided[trace.trace_id] = sampled
        if len(self._decided) > self._options.num_traces:
            self._decided.popitem(last=False)
        if sampled:
            self._outbox.append(trace)
        return sampled

    def _decide_early(self) -> tuple[bytes, bool]:
        tid, trace = self._pending.popitem(last=False)
        self._decided_early.inc()
        return tid, self._decide(trace)

    def _decide_due(self) -> None:
        """Decide up to a chunk of traces past their wait (any, when stopping)."""
        deadline = self._clock() - self._wait_s
        pending = self._pending
        for _ in range(_DECIDE_CHUNK):
            if not pending:
                return
            tid, trace = next(iter(pending.items()))
            if not self._stopping and trace.first_seen > deadline:
                return
            del pending[tid]
            self._decide(trace)

    # The decision thread

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._work_due():
                    self._cond.wait(self._sleep_s())
                self._decide_due()
                now = self._clock()
                if self._stopping and not self._pending and self._outbox and now >= self._give_up_at:
                    self._drop_outbox()
                taken = self._take_outbox() if now >= self._retry_at else []
                self._on_memory.set(self.held)
                if self._stopping and not self.held:
                    return
            if taken:
                self._deliver(taken)

    def _work_due(self) -> bool:
        now = self._clock()
        if self._pending and (self._stopping or self._oldest_pending().first_seen + self._wait_s <= now):
            return True
        if self._outbox:
            return now >= self._retry_at or (self._stopping and now >= self._give_up_at)
        return self._stopping

    def _sleep_s(self) -> float:
        now = self._clock()
        waits = [1.0]
        if self._outbox:
            waits.append(self._retry_at - now)
        if self._pending:
            waits.append(self._oldest_pending().first_seen + self._wait_s - now)
        return max(min(waits), 0.001)

    def _oldest_pending(self) -> HeldTrace:
        return next(iter(self._pending.values()))

    def _take_outbox(self) -> list[HeldTrace]:
        """The oldest sampled traces, up to DELIVERY_SPANS spans (at least one trace); they stay held until taken."""
        taken: list[HeldTrace] = []
        spans = 0
        for trace in self._outbox:
            if taken and spans + len(trace.spans) > DELIVERY_SPANS:
                break
            taken.append(trace)
            spans += len(trace.spans)
        return taken

    def _deliver(self, traces: list[HeldTrace]) -> None:
        try:
            self._next.consume(to_batch(traces))
        except Refused as refused:
            self._delivery_failed(refused.retry_after, f"refused them ({refused})")
            return
        except Exception as exc:
            self._delivery_failed(self._retry_s, f"failed ({exc})")
            return
        with self._cond:
            del self._outbox[: len(traces)]  # only this thread removes, and only from the front
            self._on_memory.set(self.held)

    def _delivery_failed(self, retry_s: float, why: str) -> None:
        with self._cond:
            self._retry_at = self._clock() + retry_s
            held = len(self._outbox)
        log = self._settings.logger
        log.warning("the next consumer %s; %d sampled trace(s) held, retrying in %gs", why, held, retry_s)

    def _drop_outbox(self) -> None:
        spans = sum(len(trace.spans) for trace in self._outbox)
        self._outbox.clear()
        self._dropped.inc(spans)
        self._settings.logger.error(
            "dropped %d span(s) of sampled traces: the next consumer refused them for %gs of shutdown",
            spans,
            SHUTDOWN_RETRY_S,
        )

    def shutdown(self) -> None:
        """Decide every held trace with what it has, deliver the sampled ones (retrying for a while), then return."""
        with self._cond:
            self._stopping = True
            self._give_up_at = self._clock() + SHUTDOWN_RETRY_S
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join()
            self._worker = None


FACTORY = ProcessorFactory("tail_sampling", parse_options, TailSamplingProcessor)
