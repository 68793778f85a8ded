"""The trace tree listed depth first, with ancestry paths, depth limits, orphans and cycles."""

from __future__ import annotations

from backend.analysis.topology import build_tree, depth_first
from tests.analysis.nodes import node


def test_spans_are_listed_parents_first_children_by_start_with_their_paths():
    spans = [node("root", 0, 100), node("late", 50, 10, "root"), node("early", 10, 10, "root"),
             node("leaf", 12, 2, "early")]  # fmt: skip

    listed = [(entry.path, entry.depth) for entry in depth_first(build_tree(spans))]

    assert listed == [("root", 1), ("root/early", 2), ("root/early/leaf", 3), ("root/late", 2)]


def test_a_depth_limit_stops_there_and_counts_the_children_it_left_out():
    spans = [node("root", 0, 100), node("a", 10, 10, "root"), node("b", 30, 10, "root"), node("a1", 11, 1, "a")]

    listed = [(entry.path, entry.truncated_children) for entry in depth_first(build_tree(spans), max_depth=1)]

    assert listed == [("root", 2)]


def test_an_orphan_is_a_root_whose_path_starts_at_its_missing_parent():
    spans = [node("root", 0, 100), node("orphan", 10, 10, "gone")]

    assert [entry.path for entry in depth_first(build_tree(spans))] == ["root", "gone/orphan"]


def test_spans_in_a_cycle_of_parent_ids_are_still_listed_once_each():
    spans = [node("a", 0, 10, "b"), node("b", 1, 10, "a")]

    assert sorted(entry.node.span_id for entry in depth_first(build_tree(spans))) == ["a", "b"]
