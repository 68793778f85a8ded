"""A trace as a tree: children by start time, roots and orphans, and the depth-first listing with ancestry paths.

A span whose parent is not in the trace (not received yet, or lost) is listed
as a root of its own; its path starts with the missing parent's id so a reader
can see where it would hang, as Jaeger's ``get_trace_topology`` shows it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from backend.analysis.spans import SpanNode


@dataclass(slots=True)
class TraceTree:
    by_id: dict[str, SpanNode]
    children: dict[str, list[SpanNode]] = field(default_factory=dict)  # by start time, then span id
    roots: list[SpanNode] = field(default_factory=list)  # true roots and orphans, by start time

    def kids(self, node: SpanNode) -> list[SpanNode]:
        return self.children.get(node.span_id, [])

    def ancestors(self, node: SpanNode) -> list[SpanNode]:
        """From the tree's root down to ``node``'s parent (empty for a root); cycles end the walk."""
        chain: list[SpanNode] = []
        seen = {node.span_id}
        current = node.parent_id
        while current is not None and current in self.by_id and current not in seen:
            seen.add(current)
            parent = self.by_id[current]
            chain.append(parent)
            current = parent.parent_id
        chain.reverse()
        return chain


def _order(node: SpanNode) -> tuple[int, str]:
    return node.start_us, node.span_id


def build_tree(nodes: list[SpanNode]) -> TraceTree:
    tree = TraceTree(by_id={node.span_id: node for node in nodes})
    for node in nodes:
        if node.parent_id is not None and node.parent_id in tree.by_id and node.parent_id != node.span_id:
            tree.children.setdefault(node.parent_id, []).append(node)
        else:
            tree.roots.append(node)
    for kids in tree.children.values():
        kids.sort(key=_order)
    tree.roots.sort(key=_order)
    return tree


@dataclass(frozen=True, slots=True)
class Listed:
    node: SpanNode
    path: str  # slash-separated span ids from the root (or the missing parent) to this span
    depth: int  # 1 for a root
    truncated_children: int  # children left out because of the depth limit


def depth_first(tree: TraceTree, max_depth: int = 0) -> Iterator[Listed]:
    """Every span once, parents before children; ``max_depth`` > 0 stops at that depth and counts what it left."""
    listed: set[str] = set()
    for start in [*tree.roots, *_unreachable(tree)]:
        first = f"{start.parent_id}/{start.span_id}" if start.parent_id is not None else start.span_id
        stack = [(start, first, 1)]
        while stack:
            node, path, depth = stack.pop()
            if node.span_id in listed:
                continue
            listed.add(node.span_id)
            kids = tree.kids(node)
            at_limit = max_depth > 0 and depth >= max_depth
            yield Listed(node, path, depth, len(kids) if at_limit else 0)
            if not at_limit:
                stack.extend((kid, f"{path}/{kid.span_id}", depth + 1) for kid in reversed(kids))


def _unreachable(tree: TraceTree) -> list[SpanNode]:
    """Spans in a cycle of parent ids (and below one): no root leads to them, so each cycle is listed from its first."""
    seen: set[str] = set()
    stack = list(tree.roots)
    while stack:
        node = stack.pop()
        if node.span_id not in seen:
            seen.add(node.span_id)
            stack.extend(tree.kids(node))
    return sorted((node for node in tree.by_id.values() if node.span_id not in seen), key=_order)
