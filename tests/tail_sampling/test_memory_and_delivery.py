"""Bounded memory under overload, decision_wait, late spans, and what happens when the next consumer refuses."""

from __future__ import annotations

import pytest

from backend.core.component import Refused
from backend.core.selfmetrics import SelfMetrics
from backend.processors.tail_sampling import processor as module
from backend.processors.tail_sampling.metrics import read
from tests.builders import batch_of
from tests.support import wait_for
from tests.tail_sampling.support import ERROR, Taker, kept, offer, tail_sampler, trace

ERRORS = {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}}
EVERYTHING = {"name": "everything", "type": "always_sample"}


def test_ten_times_num_traces_never_holds_more_than_num_traces_and_keeps_every_error() -> None:
    taker = Taker()
    metrics = SelfMetrics()
    processor = tail_sampler(
        taker, [ERRORS], metrics=metrics, num_traces=100
    )  # decision_wait 1h: only overflow decides
    traces = [trace(spans=3, status_code=ERROR if i % 10 == 0 else 0) for i in range(1000)]
    most_held = 0
    for start in range(0, 1000, 10):
        offer(processor, batch_of([spec for specs in traces[start : start + 10] for spec in specs]))
        most_held = max(most_held, processor.held)
    assert most_held == 100
    [counts] = read(metrics.registry)
    assert counts.decided_early >= 900  # the oldest, decided with what they had: none dropped
    errors = [i for i in range(0, counts.decided_early, 10)]
    wait_for(lambda: kept(taker, traces) == errors, timeout=10, what="every early-decided error trace delivered")
    assert counts.decided_early + processor.held == 1000  # the rest are held, undecided
    processor.shutdown()
    assert kept(taker, traces) == list(range(0, 1000, 10))


def test_spans_of_a_trace_arriving_within_decision_wait_are_decided_together() -> None:
    taker = Taker()
    processor = tail_sampler(taker, [ERRORS], decision_wait="300ms")
    root, child = trace(spans=2)
    child.status_code = ERROR
    processor.consume(batch_of([root]))
    processor.consume(batch_of([child]))  # the error arrives after the first span: the trace still counts it
    wait_for(lambda: taker.span_count == 2, timeout=10, what="the whole trace delivered after decision_wait")
    assert taker.trace_ids == [root.trace_id]
    processor.shutdown()


def test_late_spans_follow_the_decision_already_made() -> None:
    taker = Taker()
    processor = tail_sampler(taker, [ERRORS], decision_wait="100ms")
    kept_root, kept_child = trace(spans=2, status_code=ERROR)
    dropped_root, dropped_child = trace(spans=2)
    processor.consume(batch_of([kept_root, dropped_root]))
    wait_for(lambda: taker.span_count == 1, timeout=10, what="the error trace's root delivered")
    processor.consume(batch_of([kept_child, dropped_child]))
    wait_for(lambda: taker.span_count == 2, timeout=10, what="its late child delivered too")
    processor.shutdown()
    assert [span.span_id for batch in taker.batches for span in batch.spans] == [kept_root.span_id, kept_child.span_id]


def test_a_refused_delivery_is_retried_until_taken_and_delivered_once() -> None:
    taker = Taker()
    taker.refuse_next = 3
    processor = tail_sampler(taker, [ERRORS], decision_wait="50ms")
    failing = trace(status_code=ERROR)
    processor.consume(batch_of(failing))
    wait_for(lambda: taker.trace_ids, timeout=10, what="the sampled trace delivered after three refusals")
    assert (taker.refused, taker.trace_ids) == (3, [failing[0].trace_id])
    processor.shutdown()
    assert taker.trace_ids == [failing[0].trace_id]


def test_while_the_next_consumer_refuses_sampled_traces_stay_held_and_new_ones_are_refused_upstream() -> None:
    taker = Taker()
    taker.refusing.set()
    processor = tail_sampler(taker, [EVERYTHING], num_traces=5)
    traces = [trace() for _ in range(6)]
    for specs in traces[:5]:
        processor.consume(batch_of(specs))
    with pytest.raises(Refused) as caught:
        processor.consume(batch_of(traces[5]))  # all five decided early, all sampled, none taken
    assert caught.value.overloaded
    assert processor.refusal() is not None
    assert processor.held == 5
    taker.refusing.clear()
    wait_for(lambda: len(taker.trace_ids) == 5, timeout=10, what="the held traces delivered once taken")
    assert processor.refusal() is None
    processor.consume(batch_of(traces[5]))
    processor.shutdown()
    assert kept(taker, traces) == [0, 1, 2, 3, 4, 5]


def test_at_shutdown_a_consumer_that_keeps_refusing_costs_counted_spans_not_a_hang(monkeypatch) -> None:
    monkeypatch.setattr(module, "SHUTDOWN_RETRY_S", 0.3)
    taker = Taker()
    taker.refusing.set()
    metrics = SelfMetrics()
    processor = tail_sampler(taker, [EVERYTHING], metrics=metrics)
    processor.consume(batch_of(trace(spans=4)))
    processor.shutdown()
    registry = metrics.registry
    assert registry.get_sample_value("otelcol_processor_dropped_spans_total", {"processor": "tail_sampling"}) == 4
    assert processor.held == 0


def test_a_rate_that_cannot_fit_in_num_traces_is_warned_about_at_start(caplog) -> None:
    with caplog.at_level("WARNING", logger="test.tail_sampling"):
        processor = tail_sampler(
            Taker(), [ERRORS], decision_wait="10s", num_traces=500, expected_new_traces_per_sec=100
        )
    processor.shutdown()
    assert "1000 traces, more than num_traces (500)" in caplog.text
