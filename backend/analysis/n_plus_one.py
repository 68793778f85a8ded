"""N+1 calls: one parent span calling the same operation again and again, and how those calls were scheduled.

Siblings are grouped by their service and name and, for a span that calls
another service, by the operation it reached there (HTTP client spans are all
named ``GET``; the server span under each says whether it went to ``/route``
or ``/customer``).  A group of at least ``min_calls`` is reported with:

- how the calls ran, from the most of them that overlap in time (K):
  ``sequential`` (K = 1: never two at once), ``bounded`` (K at most half the
  calls: they ran in two or more waves of at most K, as behind a worker pool of
  K) or ``parallel`` (more than half at once; a busy machine can start the last
  of a fan-out only after the first ended, so "all at once" would be too strict);
- what they cost: the sum of their durations and the wall-clock time they
  cover, also as a share of the parent;
- retries: a failed call followed by another call of the group after it ended
  is taken as a failed attempt that was tried again, so ``calls`` counts the
  work asked for and ``span_count`` every attempt.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.analysis.spans import SpanNode
from backend.analysis.topology import TraceTree

SEQUENTIAL, PARALLEL, BOUNDED = "sequential", "parallel", "bounded"


@dataclass(frozen=True, slots=True)
class RepeatedCalls:
    parent: SpanNode
    service: str
    name: str
    callee_service: str | None  # the other service each call reached, when it did
    callee_name: str | None
    spans: list[SpanNode]  # by start time
    calls: int
    retries: int
    errors: int
    max_concurrency: int
    pattern: str  # SEQUENTIAL, PARALLEL or BOUNDED
    total_duration_us: int
    wall_time_us: int

    @property
    def description(self) -> str:
        target = f" -> {self.callee_service} {self.callee_name}" if self.callee_service else ""
        how = {
            SEQUENTIAL: "one after another",
            PARALLEL: "all in parallel"
            if self.max_concurrency >= self.calls
            else f"in parallel, up to {self.max_concurrency} at once",
            BOUNDED: f"serialized {self.max_concurrency} at a time",
        }[self.pattern]
        return f"{self.service} {self.name}{target}: {self.calls} calls from {self.parent.name}, {how}"


def find_repeated_calls(tree: TraceTree, min_calls: int = 5) -> list[RepeatedCalls]:
    """Every group of at least ``min_calls`` calls, the most wall-clock time first."""
    found = []
    for parent_id, kids in tree.children.items():
        groups: dict[tuple[str, str, str | None, str | None], list[SpanNode]] = {}
        for kid in kids:
            callee = _callee(tree, kid)
            groups.setdefault((kid.service, kid.name, *callee), []).append(kid)
        for (service, name, callee_service, callee_name), spans in groups.items():
            if len(spans) >= min_calls:
                group = _describe(tree.by_id[parent_id], service, name, callee_service, callee_name, spans)
                if group.calls >= min_calls:
                    found.append(group)
    found.sort(key=lambda group: (-group.wall_time_us, group.parent.span_id, group.name))
    return found


def _callee(tree: TraceTree, span: SpanNode) -> tuple[str | None, str | None]:
    """The operation a span reached in another service: its only child there, if it has exactly one."""
    elsewhere = [kid for kid in tree.kids(span) if kid.service != span.service]
    if len(elsewhere) == 1:
        return elsewhere[0].service, elsewhere[0].name
    return None, None


def _retries(spans: list[SpanNode]) -> int:
    latest_start = max(span.start_us for span in spans)
    return sum(1 for span in spans if span.error and span.end_us <= latest_start)


def _describe(
    parent: SpanNode, service: str, name: str, callee_service: str | None, callee_name: str | None,
    spans: list[SpanNode],
) -> RepeatedCalls:  # fmt: skip
    retries = _retries(spans)
    calls = len(spans) - retries
    most = _max_overlap(spans)
    if most <= 1:
        pattern = SEQUENTIAL
    elif 2 * most <= calls:
        pattern = BOUNDED
    else:
        pattern = PARALLEL
    return RepeatedCalls(
        parent=parent,
        service=service,
        name=name,
        callee_service=callee_service,
        callee_name=callee_name,
        spans=spans,
        calls=calls,
        retries=retries,
        errors=sum(1 for span in spans if span.error),
        max_concurrency=most,
        pattern=pattern,
        total_duration_us=sum(span.duration_us for span in spans),
        wall_time_us=_covered(spans),
    )


def _max_overlap(spans: list[SpanNode]) -> int:
    """The most spans running at one instant; one ending exactly as another starts does not overlap it."""
    events = sorted([(span.start_us, 1) for span in spans] + [(span.end_us, -1) for span in spans])
    running = most = 0
    for _, change in events:  # at equal times the end (-1) sorts first
        running += change
        most = max(most, running)
    return most


def _covered(spans: list[SpanNode]) -> int:
    """Microseconds during which at least one of the spans ran."""
    total = 0
    end = None
    for span in sorted(spans, key=lambda s: s.start_us):
        if end is None or span.start_us > end:
            total += span.duration_us
            end = span.end_us
        elif span.end_us > end:
            total += span.end_us - end
            end = span.end_us
    return total
