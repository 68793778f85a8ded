"""Repeated calls from one parent: counted, costed, and told apart by how they were scheduled."""

from __future__ import annotations

from backend.analysis.n_plus_one import BOUNDED, PARALLEL, SEQUENTIAL, find_repeated_calls
from backend.analysis.topology import build_tree
from tests.analysis.nodes import calls, node


def test_calls_one_after_another_are_sequential_with_their_count_and_cost():
    spans = [node("root", 0, 1000), *calls("q", "root", [0, 100, 200, 300, 400], 100, name="SELECT")]

    [group] = find_repeated_calls(build_tree(spans), min_calls=5)

    assert (group.name, group.calls, group.pattern, group.max_concurrency) == ("SELECT", 5, SEQUENTIAL, 1)
    assert (group.total_duration_us, group.wall_time_us) == (500, 500)
    assert group.parent.span_id == "root"


def test_a_pool_of_three_shows_as_bounded_three_at_a_time():
    starts = [0, 0, 0, 50, 50, 50, 100, 100, 100, 150]
    spans = [node("root", 0, 1000), *calls("r", "root", starts, 50, name="route")]

    [group] = find_repeated_calls(build_tree(spans), min_calls=5)

    assert (group.calls, group.pattern, group.max_concurrency) == (10, BOUNDED, 3)
    assert "serialized 3 at a time" in group.description
    assert group.wall_time_us == 200


def test_calls_all_at_once_are_parallel():
    spans = [node("root", 0, 1000), *calls("r", "root", [0, 1, 2, 3, 4, 5], 100, name="fetch")]

    [group] = find_repeated_calls(build_tree(spans), min_calls=5)

    assert (group.pattern, group.max_concurrency) == (PARALLEL, 6)
    assert "all in parallel" in group.description


def test_a_fan_out_whose_last_call_started_late_is_still_parallel_but_two_waves_are_bounded():
    late = [node("root", 0, 1000), *calls("r", "root", [0, 1, 2, 3, 4, 150], 100, name="fetch")]
    waves = [node("root", 0, 1000), *calls("r", "root", [0, 1, 150, 151, 300, 301], 100, name="fetch")]

    [fan_out] = find_repeated_calls(build_tree(late), min_calls=5)
    [pooled] = find_repeated_calls(build_tree(waves), min_calls=5)

    assert (fan_out.pattern, fan_out.max_concurrency) == (PARALLEL, 5)
    assert "up to 5 at once" in fan_out.description
    assert (pooled.pattern, pooled.max_concurrency) == (BOUNDED, 2)


def test_a_failed_attempt_followed_by_another_call_counts_as_a_retry_not_a_call():
    spans = [node("root", 0, 1000), *calls("g", "root", [0, 100, 200, 300, 400], 50, name="GetDriver")]
    spans.append(node("failed", 500, 50, "root", name="GetDriver", error=True))
    spans.append(node("retry", 600, 50, "root", name="GetDriver"))

    [group] = find_repeated_calls(build_tree(spans), min_calls=5)

    assert (group.calls, len(group.spans), group.retries, group.errors) == (6, 7, 1, 1)


def test_client_calls_of_one_name_are_kept_apart_by_the_service_operation_they_reached():
    spans = [node("root", 0, 1000, service="frontend")]
    for i in range(5):
        spans.append(node(f"c{i}", i * 10, 10, "root", service="frontend", name="GET"))
        spans.append(node(f"s{i}", i * 10 + 1, 8, f"c{i}", service="route", name="GET /route"))
    spans.append(node("cc", 100, 10, "root", service="frontend", name="GET"))
    spans.append(node("cs", 101, 8, "cc", service="customer", name="GET /customer"))

    [group] = find_repeated_calls(build_tree(spans), min_calls=5)

    assert (group.callee_service, group.callee_name, group.calls) == ("route", "GET /route", 5)


def test_fewer_calls_than_the_threshold_are_not_reported():
    spans = [node("root", 0, 1000), *calls("q", "root", [0, 100, 200, 300], 100, name="SELECT")]

    assert find_repeated_calls(build_tree(spans), min_calls=5) == []
