"""Counting root spans: from sampler tags, else the tracestate threshold, else the served probability."""

from __future__ import annotations

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from backend.sampling.adaptive.aggregator import Aggregator
from backend.sampling.adaptive.options import AdaptiveOptions
from backend.sampling.adaptive.post_aggregator import PostAggregator
from backend.sampling.adaptive.root_spans import threshold_probability
from backend.spans.model import SpanBatch
from backend.storage.memory.sampling import MemorySamplingStore
from tests.builders import SpanSpec, batch_of

SERVED = 0.125


def counted(batch: SpanBatch) -> dict[tuple[str, str], tuple[int, set[str]]]:
    store = MemorySamplingStore()
    post = PostAggregator(AdaptiveOptions(), "host", store, lambda: False)
    aggregator = Aggregator(store, post, lambda service, operation: SERVED)
    aggregator.handle_batch(batch)
    aggregator.flush()
    return {(t.service, t.operation): (t.count, t.probabilities) for t in store.get_throughput(0, 2**63 - 1)}


def with_trace_state(batch: SpanBatch, trace_state: str) -> SpanBatch:
    for record in batch.spans:
        span = Span.FromString(record.payload)
        span.trace_state = trace_state
        record.payload = span.SerializeToString()
    return batch


def test_probabilistic_roots_count_at_their_tagged_probability() -> None:
    roots = [SpanSpec("api", "GET", attributes={"sampler.type": "probabilistic", "sampler.param": 0.25}) for _ in "ab"]
    assert counted(batch_of(roots)) == {("api", "GET"): (2, {"0.250000"})}


def test_lower_bound_roots_register_the_operation_without_counting() -> None:
    root = SpanSpec("api", "GET", attributes={"sampler.type": "lowerbound", "sampler.param": 0.5})
    assert counted(batch_of([root])) == {("api", "GET"): (0, {"0.500000"})}


def test_children_are_not_counted() -> None:
    root = SpanSpec("api", "GET", attributes={"sampler.type": "probabilistic", "sampler.param": 1.0})
    child = root.child("db", "SELECT")
    assert counted(batch_of([root, child])) == {("api", "GET"): (1, {"1.000000"})}


def test_the_tracestate_threshold_gives_the_probability_of_untagged_roots() -> None:
    batch = with_trace_state(batch_of([SpanSpec("api", "GET")]), "vendor=x,ot=th:c;rv:abc")
    assert counted(batch) == {("api", "GET"): (1, {"0.250000"})}


def test_roots_that_say_nothing_count_at_the_served_probability() -> None:
    assert counted(batch_of([SpanSpec("api", "GET")])) == {("api", "GET"): (1, {"0.125000"})}


def test_thresholds_decode_as_the_specification_examples() -> None:
    assert threshold_probability("ot=th:0") == 1.0
    assert threshold_probability("ot=th:8") == 0.5
    assert threshold_probability("ot=th:fd70a4") == pytest.approx(0.01, rel=1e-4)
    assert threshold_probability("ot=th:zz") is None
    assert threshold_probability("other=th:8") is None


def test_probabilistic_roots_carry_the_requests_they_stand_for() -> None:
    store = MemorySamplingStore()
    aggregator = Aggregator(store, PostAggregator(AdaptiveOptions(), "host", store, lambda: False), lambda s, o: 1.0)
    aggregator.record("api", "GET", "probabilistic", 0.25)
    aggregator.record("api", "GET", "probabilistic", 0.5)
    aggregator.record("api", "GET", "lowerbound", 0.5)
    aggregator.flush()
    assert store.get_throughput(0, 2**63 - 1)[0].requests == pytest.approx(6.0)
