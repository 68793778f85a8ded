"""The critical path of a trace: the chain of work that the trace's end waited on.

Walking back from the root's end, the child that finished last is what the
parent was waiting for; before that child started, the next one to finish,
and so on; time no child covers is the parent's own.  Children that outlive
their parent are clipped to it, and children that start after it ended
(fire-and-forget work) are not on the path.

When the path cannot be found the result says why, so the page (or the agent)
can tell the reader instead of silently showing nothing: a span whose parent
is not in the trace, several roots, or a child that starts before its parent
(the services' clocks disagree).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.analysis.spans import SpanNode, jaeger_parent_id, nodes_from_jaeger

# the trace UI's name for it (compare.py, trace_view.py)
parent_id = jaeger_parent_id


@dataclass(frozen=True, slots=True)
class CriticalPath:
    segments: list[tuple[str, int, int]] = field(default_factory=list)  # (spanID, start µs, end µs), by start
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"segments": [list(segment) for segment in self.segments], "problem": self.problem}


def critical_path(spans: list[dict[str, Any]]) -> CriticalPath:
    """Spans in Jaeger's JSON shape (``startTime``/``duration`` in µs), as the trace page has them."""
    return critical_path_of(nodes_from_jaeger(spans))


def critical_path_of(nodes: list[SpanNode]) -> CriticalPath:
    by_id = {node.span_id: node for node in nodes}
    children: dict[str, list[SpanNode]] = {}
    roots = []
    for node in nodes:
        parent = node.parent_id
        if parent is None:
            roots.append(node)
        elif parent not in by_id:
            return CriticalPath(
                problem=f"cannot compute the critical path: the parent {parent} of span "
                f"{node.span_id} ({node.name}) is missing from the trace"
            )
        else:
            if node.start_us < by_id[parent].start_us:
                return CriticalPath(
                    problem=f"cannot compute the critical path: span {node.span_id} "
                    f"({node.name}) starts before its parent (clock skew?)"
                )
            children.setdefault(parent, []).append(node)
    if len(roots) != 1:
        return CriticalPath(problem=f"cannot compute the critical path: the trace has {len(roots)} root spans")

    segments: list[tuple[str, int, int]] = []
    root = roots[0]
    work = [(root, root.end_us)]
    while work:
        node, end = work.pop()
        cursor = end
        for child in sorted(children.get(node.span_id, ()), key=lambda n: n.end_us, reverse=True):
            if child.start_us >= cursor:
                continue
            child_end = min(child.end_us, cursor)
            if child_end < cursor:
                segments.append((node.span_id, child_end, cursor))
            work.append((child, child_end))
            cursor = child.start_us
        if node.start_us < cursor:
            segments.append((node.span_id, node.start_us, cursor))
    segments.sort(key=lambda segment: segment[1])
    return CriticalPath(segments)
