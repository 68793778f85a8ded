"""The synthetic trace generator: repeatable, and exactly the shape asked for."""

from __future__ import annotations

from collections import Counter

import pytest

from backend.spans.otlp import to_batch
from loadgen.synthetic import SYNTHETIC_ATTRIBUTE, SyntheticTraces, TraceShape

BASE_TIME_NS = 1_700_000_000_000_000_000
SHAPE = TraceShape(services=3, depth=3, spans_per_trace=7, attributes=2, attribute_size=10, traces_per_request=4)


def requests_bytes(seed: int, stream: int = 0, count: int = 5) -> list[bytes]:
    source = SyntheticTraces(SHAPE, seed, BASE_TIME_NS, stream)
    return [source.next_request()[0].SerializeToString() for _ in range(count)]


def test_same_seed_gives_byte_identical_requests():
    assert requests_bytes(seed=7) == requests_bytes(seed=7)


def test_other_seed_or_stream_gives_other_traces():
    assert requests_bytes(seed=7) != requests_bytes(seed=8)
    assert requests_bytes(seed=7, stream=0) != requests_bytes(seed=7, stream=1)


def test_every_trace_produced_is_recorded_with_its_span_count():
    source = SyntheticTraces(SHAPE, 1, BASE_TIME_NS)
    spans_by_trace: Counter[str] = Counter()
    for _ in range(3):
        request, traces = source.next_request()
        assert len(traces) == SHAPE.traces_per_request
        for record in to_batch(request).batch.spans:
            spans_by_trace[record.trace_id.hex()] += 1
    assert dict(spans_by_trace) == source.produced
    assert set(source.produced.values()) == {SHAPE.spans_per_trace}


def test_traces_have_the_configured_shape():
    source = SyntheticTraces(SHAPE, 3, BASE_TIME_NS)
    batch = to_batch(source.next_request()[0]).batch
    by_id = {span.span_id: span for span in batch.spans}

    def depth(span) -> int:
        return 0 if not span.parent_span_id else 1 + depth(by_id[span.parent_span_id])

    for trace_id in {span.trace_id for span in batch.spans}:
        spans = [span for span in batch.spans if span.trace_id == trace_id]
        assert sum(1 for span in spans if not span.parent_span_id) == 1
        assert max(depth(span) for span in spans) == SHAPE.depth - 1
        for span in spans:
            if span.parent_span_id:
                parent = by_id[span.parent_span_id]
                assert parent.start_ns <= span.start_ns
    assert {span.service for span in batch.spans} <= {f"synthetic-{i:02d}" for i in range(SHAPE.services)}


def test_roots_carry_the_synthetic_marker_and_attribute_sizes_hold():
    request, _ = SyntheticTraces(SHAPE, 4, BASE_TIME_NS).next_request()
    spans = [span for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans]
    roots = [span for span in spans if not span.parent_span_id]
    assert roots and all(
        any(kv.key == SYNTHETIC_ATTRIBUTE and kv.value.string_value == "test" for kv in root.attributes)
        for root in roots
    )
    for span in spans:
        synthetic = [kv for kv in span.attributes if kv.key.startswith("synthetic.attr.")]
        assert len(synthetic) == SHAPE.attributes
        assert all(len(kv.value.string_value) == SHAPE.attribute_size for kv in synthetic)


def failed_traces(shape: TraceShape) -> set[bytes]:
    request, _ = SyntheticTraces(shape, 5, BASE_TIME_NS).next_request()
    return {
        span.trace_id
        for rs in request.resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
        if span.status.code == span.status.STATUS_CODE_ERROR
    }


def test_error_rate_marks_that_share_of_traces_failed():
    assert 70 <= len(failed_traces(TraceShape(error_rate=0.5, traces_per_request=200))) <= 130


def test_zero_error_rate_sends_no_failures():
    assert failed_traces(TraceShape(error_rate=0.0, traces_per_request=200)) == set()


@pytest.mark.parametrize(
    "field, value",
    [("services", 0), ("spans_per_trace", 0), ("depth", 11), ("error_rate", 1.5), ("traces_per_request", 0)],
)
def test_impossible_shapes_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        TraceShape(**{field: value})
