"""The deep dependency graph: every path of calls through services that passes a focal service, from stored traces.

Jaeger UI's deep dependency view draws ``{"dependencies": [{"path": [{service,
operation}, ...], "attributes": [{"key": "exemplar_trace_id", "value": id}]}]}``
(Jaeger's own ``/api/deep-dependencies`` answers made-up data).  Here each
root-to-leaf chain of spans of a trace becomes a path the way the UI turns
traces into paths itself: a span joins the path where the service changes or
where a server span begins (so a service's internal spans fold into the call
that entered it).  Paths through the focal service (and operation, when one is
given) are kept, one per distinct path, with up to ``max_exemplars`` traces
that took it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from backend.analysis.spans import SpanNode
from backend.analysis.topology import TraceTree, build_tree

Hop = tuple[str, str]  # (service, operation)


def deep_dependencies(
    traces: Iterable[tuple[str, list[SpanNode]]], service: str, operation: str | None = None, max_exemplars: int = 5
) -> dict[str, Any]:
    """``traces`` as (trace id, spans); the answer in Jaeger's ``TDdgPayload`` shape, paths in first-seen order."""
    exemplars: dict[tuple[Hop, ...], list[str]] = {}
    for trace_id, spans in traces:
        for path in _paths(build_tree(spans)):
            if not any(hop[0] == service and (operation is None or hop[1] == operation) for hop in path):
                continue
            seen = exemplars.setdefault(path, [])
            if trace_id not in seen and len(seen) < max_exemplars:
                seen.append(trace_id)
    return {
        "dependencies": [
            {
                "path": [{"service": hop_service, "operation": hop_operation} for hop_service, hop_operation in path],
                "attributes": [{"key": "exemplar_trace_id", "value": trace_id} for trace_id in trace_ids],
            }
            for path, trace_ids in exemplars.items()
        ]
    }


def _paths(tree: TraceTree) -> Iterable[tuple[Hop, ...]]:
    """Each root-to-leaf chain, reduced to the hops between services (and into server spans).

    Every span has one parent, so walking down from the roots visits each span once (spans in a cycle of
    parent ids hang under no root and are not walked).
    """
    for root in tree.roots:
        stack: list[tuple[SpanNode, tuple[Hop, ...], str | None]] = [(root, (), None)]
        while stack:
            node, path, last_service = stack.pop()
            if last_service is None or node.service != last_service or node.kind == "server":
                path = (*path, (node.service, node.name))
            kids = tree.kids(node)
            if not kids:
                yield path
            stack.extend((kid, path, node.service) for kid in reversed(kids))
