"""The critical path over Jaeger-shaped spans: what the trace waited for, or why it cannot be told."""

from __future__ import annotations

from backend.analysis.critical_path import critical_path


def span(span_id: str, start: int, duration: int, parent: str | None = None) -> dict:
    references = [{"refType": "CHILD_OF", "traceID": "t", "spanID": parent}] if parent else []
    return {"traceID": "t", "spanID": span_id, "operationName": span_id, "startTime": start,
            "duration": duration, "references": references}  # fmt: skip


def test_sequential_children_are_all_on_the_path_and_gaps_belong_to_the_parent():
    spans = [span("root", 0, 100), span("a", 10, 30, "root"), span("b", 50, 40, "root")]

    path = critical_path(spans)

    assert path.problem is None
    assert path.segments == [("root", 0, 10), ("a", 10, 40), ("root", 40, 50), ("b", 50, 90), ("root", 90, 100)]


def test_of_parallel_children_only_the_one_finishing_last_counts():
    spans = [span("root", 0, 100), span("short", 0, 20, "root"), span("long", 0, 100, "root")]

    assert critical_path(spans).segments == [("long", 0, 100)]


def test_a_child_outliving_its_parent_is_clipped_and_one_starting_after_it_is_ignored():
    spans = [span("root", 0, 50), span("late", 40, 100, "root"), span("async", 60, 10, "root")]

    assert critical_path(spans).segments == [("root", 0, 40), ("late", 40, 50)]


def test_a_missing_parent_is_named():
    spans = [span("root", 0, 100), span("orphan", 10, 10, "gone")]

    path = critical_path(spans)

    assert path.segments == []
    assert "gone" in path.problem and "missing" in path.problem


def test_a_child_starting_before_its_parent_is_reported_as_clock_skew():
    spans = [span("root", 100, 100), span("early", 50, 10, "root")]

    assert "clock skew" in critical_path(spans).problem


def test_several_roots_are_reported():
    assert "2 root spans" in critical_path([span("a", 0, 1), span("b", 0, 1)]).problem


def test_a_long_chain_does_not_exhaust_the_stack():
    spans = [span("s0", 0, 20_000)] + [span(f"s{i}", i, 20_000 - 2 * i, f"s{i - 1}") for i in range(1, 5_000)]

    path = critical_path(spans)

    assert path.problem is None and len(path.segments) == 2 * 5_000 - 1
