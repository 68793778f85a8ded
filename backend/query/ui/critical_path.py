"""The critical path of a trace: the chain of work that the trace's end waited on.

Walking back from the root's end, the child that finished last is what the
parent was waiting for; before that child started, the next one to finish,
and so on; time no child covers is the parent's own.  Children that outlive
their parent are clipped to it, and children that start after it ended
(fire-and-forget work) are not on the path.

When the path cannot be found the result says why, so the page can tell
the reader instead of silently drawing nothing: a span whose parent is not
in the trace, several roots, or a child that starts before its parent (the
services' clocks disagree).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class CriticalPath:
    segments: list[tuple[str, int, int]] = field(default_factory=list)  # (spanID, start µs, end µs), by start
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"segments": [list(segment) for segment in self.segments], "problem": self.problem}


def parent_id(span: dict[str, Any]) -> str | None:
    """The span's parent: its first CHILD_OF reference within the same trace."""
    for reference in span["references"]:
        if reference["refType"] == "CHILD_OF" and reference["traceID"] == span["traceID"]:
            return str(reference["spanID"])
    return None


def critical_path(spans: list[dict[str, Any]]) -> CriticalPath:
    """Spans in Jaeger's JSON shape (``startTime``/``duration`` in µs)."""
    by_id = {span["spanID"]: span for span in spans}
    children: dict[str, list[dict[str, Any]]] = {}
    roots = []
    for span in spans:
        parent = parent_id(span)
        if parent is None:
            roots.append(span)
        elif parent not in by_id:
            return CriticalPath(
                problem=f"cannot compute the critical path: the parent {parent} of span "
                f"{span['spanID']} ({span['operationName']}) is missing from the trace"
            )
        else:
            if span["startTime"] < by_id[parent]["startTime"]:
                return CriticalPath(
                    problem=f"cannot compute the critical path: span {span['spanID']} "
                    f"({span['operationName']}) starts before its parent (clock skew?)"
                )
            children.setdefault(parent, []).append(span)
    if len(roots) != 1:
        return CriticalPath(problem=f"cannot compute the critical path: the trace has {len(roots)} root spans")

    segments: list[tuple[str, int, int]] = []
    root = roots[0]
    work = [(root, root["startTime"] + root["duration"])]
    while work:
        span, end = work.pop()
        cursor = end
        kids = sorted(children.get(span["spanID"], ()), key=lambda s: s["startTime"] + s["duration"], reverse=True)
        for child in kids:
            if child["startTime"] >= cursor:
                continue
            child_end = min(child["startTime"] + child["duration"], cursor)
            if child_end < cursor:
                segments.append((span["spanID"], child_end, cursor))
            work.append((child, child_end))
            cursor = child["startTime"]
        if span["startTime"] < cursor:
            segments.append((span["spanID"], span["startTime"], cursor))
    segments.sort(key=lambda segment: segment[1])
    return CriticalPath(segments)
