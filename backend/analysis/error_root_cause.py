"""Where a failure began: the deepest error spans, and the chain from the trace's root down to each.

An error span none of whose descendants failed is where an error started (a
root cause); error spans above it on its chain are the failure travelling up
(cascade).  A trace can hold several independent root causes.  Whether the
failure reached the root says if the request failed or was recovered (a retry
that succeeded, a fallback).
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.analysis.spans import SpanNode
from backend.analysis.topology import TraceTree


@dataclass(frozen=True, slots=True)
class RootCause:
    span: SpanNode
    chain: list[SpanNode]  # the tree's root first, down to ``span`` itself
    propagated_to: list[SpanNode]  # the error spans above it on the chain, nearest first

    @property
    def reached_root(self) -> bool:
        return self.chain[0].error


def find_root_causes(tree: TraceTree) -> list[RootCause]:
    """Root causes, deepest first (then by start time)."""
    failed_below: set[str] = set()  # spans with a failed descendant
    for node in tree.by_id.values():
        if node.error:
            failed_below.update(ancestor.span_id for ancestor in tree.ancestors(node))
    causes = []
    for node in tree.by_id.values():
        if node.error and node.span_id not in failed_below:
            chain = [*tree.ancestors(node), node]
            causes.append(RootCause(node, chain, [span for span in reversed(chain[:-1]) if span.error]))
    causes.sort(key=lambda cause: (-len(cause.chain), cause.span.start_us, cause.span.span_id))
    return causes
