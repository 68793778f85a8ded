"""Analyses of one trace: its critical path (Jaeger's tool), and ours: repeated calls (N+1) and error root causes.

Each reads at most ``max_trace_spans`` spans of the trace (the earliest) and
says so when it did; the computations are ``backend.analysis``'s, shared with
the trace UI.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from backend.analysis.critical_path import critical_path_of
from backend.analysis.error_root_cause import find_root_causes
from backend.analysis.n_plus_one import find_repeated_calls
from backend.analysis.spans import SpanNode, nodes_from_records
from backend.analysis.topology import build_tree
from backend.query.mcp.tools.context import ToolContext, TraceIdArg
from backend.spans.otlp import decode_span
from backend.storage.api import Trace

HOTSPOTS = 10


class SpanRef(BaseModel):
    """A span as every finding names it: its id, and what an agent reads it by."""

    span_id: str
    service: str
    span_name: str


class TraceFindings(BaseModel):
    """What every analysis answers besides its findings: which trace, and whether all of it was read."""

    trace_id: str
    truncated: bool = Field(description="True when only the server's span limit of the trace was read")


class CriticalPathSegment(SpanRef):
    self_time_us: int = Field(description="Time of this segment that no child of the span covered")
    start_offset_us: int = Field(description="Segment start, from the trace's start")
    end_offset_us: int = Field(description="Segment end, from the trace's start")


class Hotspot(SpanRef):
    self_time_us: int = Field(description="All of this span's time on the critical path")
    share_percent: float = Field(description="Of the critical path's duration")


class GetCriticalPathOutput(TraceFindings):
    total_duration_us: int
    critical_path_duration_us: int
    segments: list[CriticalPathSegment] = Field(description="The path's segments in time order")
    hotspots: list[Hotspot] = Field(description="Spans holding the most time on the path, most first (top 10)")


class RepeatedCallsFinding(BaseModel):
    parent_span_id: str
    parent_service: str
    parent_span_name: str
    service: str
    span_name: str
    callee_service: str = Field(default="", description="The service each call reached, when it went to another one")
    callee_span_name: str = ""
    calls: int = Field(description="Calls made; a failed attempt that was tried again counts once")
    span_count: int = Field(description="Every attempt, retries included")
    retries: int
    error_count: int
    execution: str = Field(description="sequential, parallel, or bounded (at most max_concurrency at once)")
    max_concurrency: int = Field(description="The most of these calls running at one instant")
    total_duration_us: int = Field(description="Sum of the calls' durations")
    wall_time_us: int = Field(description="Time during which at least one of the calls ran")
    parent_share_percent: float = Field(description="wall_time_us as a share of the parent's duration")
    summary: str
    span_ids: list[str] = Field(description="The calls' span ids in start order (at most 20)")


class DetectNPlusOneOutput(TraceFindings):
    findings: list[RepeatedCallsFinding] = Field(description="Most wall-clock time first, at most the server's limit")
    total_findings: int = Field(description="Findings before the limit; more than 'findings' holds when cut")


class ChainSpan(SpanRef):
    error: bool


class RootCauseFinding(SpanRef):
    status_message: str
    depth: int = Field(description="1 for the trace's root")
    chain: list[ChainSpan] = Field(description="From the trace's root down to this span")
    propagated_error_count: int = Field(description="Error spans above it on its chain: the failure travelling up")
    reached_root: bool = Field(description="True when the trace's root failed too (the request failed)")


class FindErrorRootCauseOutput(TraceFindings):
    total_error_count: int
    root_causes: list[RootCauseFinding] = Field(description="Deepest first; at most the server's span details limit")
    total_root_causes: int = Field(description="Root causes before the limit; more than 'root_causes' holds when cut")
    request_failed: bool = Field(description="True when a root span of the trace has error status")


def register(server: MCPServer, context: ToolContext) -> None:
    clip = context.clip
    options = context.options

    def read(trace_id: str) -> tuple[Trace, list[SpanNode], bool]:
        """The trace, its earliest ``max_trace_spans`` spans as nodes, and whether that left some out."""
        trace = context.load_trace(trace_id)
        kept = sorted(trace.spans, key=lambda span: span.start_ns)[: options.max_trace_spans]
        return trace, nodes_from_records(kept), len(kept) < len(trace.spans)

    @server.tool(
        name="get_critical_path",
        description=(
            "The critical latency path of a trace: the chain of spans its end-to-"
            "end duration waited on. High self_time_us shows where the time went; "
            "'hotspots' ranks the spans by it."
        ),
    )
    def get_critical_path(trace_id: TraceIdArg) -> GetCriticalPathOutput:
        trace, spans, truncated = read(trace_id)
        path = critical_path_of(spans)
        if path.problem is not None:
            raise ToolError(path.problem)
        by_id = {span.span_id: span for span in spans}
        start = min(span.start_us for span in spans)
        end = max(span.end_us for span in spans)
        self_time: dict[str, int] = defaultdict(int)
        segments = []
        for span_id, segment_start, segment_end in path.segments:
            span = by_id[span_id]
            self_time[span_id] += segment_end - segment_start
            segments.append(
                CriticalPathSegment(
                    span_id=span_id, service=clip(span.service), span_name=clip(span.name),
                    self_time_us=segment_end - segment_start,
                    start_offset_us=segment_start - start, end_offset_us=segment_end - start,
                )
            )  # fmt: skip
        on_path = sum(self_time.values())
        ranked = sorted(self_time.items(), key=lambda item: (-item[1], by_id[item[0]].start_us, item[0]))[:HOTSPOTS]
        return GetCriticalPathOutput(
            trace_id=trace.spans[0].trace_id.hex(),
            total_duration_us=end - start,
            critical_path_duration_us=on_path,
            segments=segments,
            hotspots=[
                Hotspot(
                    span_id=span_id,
                    service=clip(by_id[span_id].service),
                    span_name=clip(by_id[span_id].name),
                    self_time_us=spent,
                    share_percent=round(100 * spent / on_path, 1) if on_path else 0.0,
                )
                for span_id, spent in ranked
            ],  # fmt: skip
            truncated=truncated,
        )

    @server.tool(
        name="detect_n_plus_one",
        description=(
            "Find N+1 patterns in a trace: one parent span calling the same "
            "operation many times. Says how many calls, what they cost, and whether"
            " they ran one after another, all in parallel, or a few at a time (a "
            "worker pool)."
        ),
    )
    def detect_n_plus_one(
        trace_id: TraceIdArg,
        min_calls: Annotated[int, Field(description="Report groups of at least this many calls (default 5)")] = 5,
    ) -> DetectNPlusOneOutput:
        if min_calls < 2:
            raise ToolError("min_calls must be at least 2")
        trace, spans, truncated = read(trace_id)
        groups = find_repeated_calls(build_tree(spans), min_calls)
        findings = []
        for group in groups[: options.max_span_details_per_request]:
            parent = group.parent
            findings.append(
                RepeatedCallsFinding(
                    parent_span_id=parent.span_id,
                    parent_service=clip(parent.service),
                    parent_span_name=clip(parent.name),
                    service=clip(group.service),
                    span_name=clip(group.name),
                    callee_service=clip(group.callee_service or ""),
                    callee_span_name=clip(group.callee_name or ""),
                    calls=group.calls,
                    span_count=len(group.spans),
                    retries=group.retries,
                    error_count=group.errors,
                    execution=group.pattern,
                    max_concurrency=group.max_concurrency,
                    total_duration_us=group.total_duration_us,
                    wall_time_us=group.wall_time_us,
                    parent_share_percent=round(100 * group.wall_time_us / parent.duration_us, 1)
                    if parent.duration_us
                    else 0.0,
                    summary=clip(group.description),
                    span_ids=[span.span_id for span in group.spans[:20]],
                )
            )
        return DetectNPlusOneOutput(
            trace_id=trace.spans[0].trace_id.hex(), findings=findings, total_findings=len(groups), truncated=truncated
        )

    @server.tool(
        name="find_error_root_cause",
        description=(
            "Where a trace's failure began: the deepest error spans (no failed "
            "descendant), each with the chain from the root and how far the error "
            "travelled up."
        ),
    )
    def find_error_root_cause(trace_id: TraceIdArg) -> FindErrorRootCauseOutput:
        trace, spans, truncated = read(trace_id)
        tree = build_tree(spans)
        records = {record.span_id.hex(): record for record in trace.spans}
        found = find_root_causes(tree)
        causes = []
        for cause in found[: options.max_span_details_per_request]:
            decoded, _ = decode_span(records[cause.span.span_id])
            causes.append(
                RootCauseFinding(
                    span_id=cause.span.span_id,
                    service=clip(cause.span.service),
                    span_name=clip(cause.span.name),
                    status_message=clip(decoded.status.message),
                    depth=len(cause.chain),
                    chain=[
                        ChainSpan(span_id=n.span_id, service=clip(n.service), span_name=clip(n.name), error=n.error)
                        for n in cause.chain
                    ],
                    propagated_error_count=len(cause.propagated_to),
                    reached_root=cause.reached_root,
                )
            )
        return FindErrorRootCauseOutput(
            trace_id=trace.spans[0].trace_id.hex(),
            total_error_count=sum(1 for span in spans if span.error),
            root_causes=causes,
            total_root_causes=len(found),
            request_failed=any(root.error for root in tree.roots if root.parent_id is None),
            truncated=truncated,
        )
