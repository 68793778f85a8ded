"""Two traces side by side: the same call structure, with counts and durations of each.

Spans are grouped by their path of (service, operation) from the root, so a
request that made twelve ``SQL SELECT`` calls in one trace and two in the
other shows one row with 12 and 2; durations are summed per row.  Rows keep
the order in which the calls first started, A's structure first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.analysis.critical_path import parent_id

Path = tuple[tuple[str, str], ...]


@dataclass(slots=True)
class CompareRow:
    depth: int
    service: str
    operation: str
    count: list[int] = field(default_factory=lambda: [0, 0])
    duration_us: list[int] = field(default_factory=lambda: [0, 0])
    errors: list[int] = field(default_factory=lambda: [0, 0])

    @property
    def change(self) -> str:
        """``added``, ``removed``, ``slower``, ``faster`` or ``same``, for the row's highlight."""
        (count_a, count_b), (time_a, time_b) = self.count, self.duration_us
        if not count_a:
            return "added"
        if not count_b:
            return "removed"
        if count_a != count_b or abs(time_b - time_a) > 0.2 * max(time_a, time_b):
            return "slower" if time_b > time_a else "faster"
        return "same"


def _paths(trace: dict[str, Any]) -> list[tuple[int, Path, dict[str, Any]]]:
    """(start, path, span) for every span, in start order."""
    processes = trace["processes"]
    by_id = {span["spanID"]: span for span in trace["spans"]}
    paths: dict[str, Path] = {}

    def path_of(span: dict[str, Any]) -> Path:
        chain = []
        seen: set[str] = set()
        current: dict[str, Any] | None = span
        while current is not None and current["spanID"] not in paths:
            chain.append(current)
            seen.add(current["spanID"])
            parent = parent_id(current)
            current = by_id.get(parent) if parent else None
            if current is not None and current["spanID"] in seen:  # a cycle of references: treat as a root
                current = None
        prefix = paths[current["spanID"]] if current is not None else ()
        for item in reversed(chain):
            service = processes.get(item["processID"], {}).get("serviceName", "")
            prefix = (*prefix, (service, item["operationName"]))
            paths[item["spanID"]] = prefix
        return paths[span["spanID"]]

    return sorted(((span["startTime"], path_of(span), span) for span in trace["spans"]), key=lambda x: x[0])


def _is_error(span: dict[str, Any]) -> bool:
    return any(tag["key"] == "error" and tag["value"] in (True, "true") for tag in span["tags"])


def compare_traces(a: dict[str, Any], b: dict[str, Any]) -> list[CompareRow]:
    """Rows of the merged call tree, depth-first, for traces in Jaeger's JSON shape."""
    rows: dict[Path, CompareRow] = {}
    children: dict[Path, list[Path]] = {(): []}
    for side, trace in enumerate((a, b)):
        for _start, path, span in _paths(trace):
            row = rows.get(path)
            if row is None:
                row = rows[path] = CompareRow(len(path) - 1, *path[-1])
                children.setdefault(path[:-1], []).append(path)
                children.setdefault(path, [])
            row.count[side] += 1
            row.duration_us[side] += span["duration"]
            row.errors[side] += _is_error(span)
    ordered: list[CompareRow] = []
    stack = list(reversed(children[()]))
    while stack:
        path = stack.pop()
        ordered.append(rows[path])
        stack.extend(reversed(children.get(path, [])))
    return ordered
