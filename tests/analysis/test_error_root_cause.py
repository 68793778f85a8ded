"""The deepest error spans are where failures began; errors above them are the failure travelling up."""

from __future__ import annotations

from backend.analysis.error_root_cause import find_root_causes
from backend.analysis.topology import build_tree
from tests.analysis.nodes import node


def test_the_deepest_error_is_the_root_cause_and_its_failed_ancestors_the_propagation():
    spans = [
        node("root", 0, 100, error=True),
        node("handler", 10, 80, "root", error=True),
        node("query", 20, 10, "handler", error=True),
        node("cache", 40, 10, "handler"),
    ]

    [cause] = find_root_causes(build_tree(spans))

    assert cause.span.span_id == "query"
    assert [span.span_id for span in cause.chain] == ["root", "handler", "query"]
    assert [span.span_id for span in cause.propagated_to] == ["handler", "root"]
    assert cause.reached_root


def test_independent_failures_are_each_a_root_cause_deepest_first_and_a_recovered_one_did_not_reach_the_root():
    spans = [
        node("root", 0, 100),
        node("a", 10, 10, "root", error=True),
        node("b", 30, 50, "root"),
        node("b1", 40, 10, "b", error=True),
    ]

    causes = find_root_causes(build_tree(spans))

    assert [cause.span.span_id for cause in causes] == ["b1", "a"]
    assert not any(cause.reached_root for cause in causes)


def test_a_trace_without_errors_has_no_root_cause():
    assert find_root_causes(build_tree([node("root", 0, 10), node("child", 1, 5, "root")])) == []
