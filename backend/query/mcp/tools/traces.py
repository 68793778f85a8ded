"""One trace at a time: its shape (topology), chosen spans in full, and its error spans."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from pydantic import BaseModel, Field

from backend.analysis.spans import nodes_from_records
from backend.analysis.topology import build_tree, depth_first
from backend.query.mcp.tools.context import ToolContext, TraceIdArg, parse_span_id, rfc3339
from backend.spans.attributes import plain
from backend.spans.model import STATUS_ERROR, STATUS_OK, SpanRecord
from backend.spans.otlp import decode_span

STATUS_NAMES = {STATUS_OK: "Ok", STATUS_ERROR: "Error"}  # anything else: Unset, as OTLP's enum prints


def status_name(code: int) -> str:
    return STATUS_NAMES.get(code, "Unset")


class TopologySpan(BaseModel):
    path: str = Field(description="Span ids from the root down to this span, slash-separated")
    service: str
    span_name: str
    start_time: str
    duration_us: int
    status: str = Field(description="Unset, Ok or Error")
    truncated_children: int = Field(default=0, description="Direct children left out by the depth limit")


class GetTraceTopologyOutput(BaseModel):
    trace_id: str
    spans: list[TopologySpan] = Field(description="Depth first; 'path' gives each span's ancestry")
    total_span_count: int = Field(description="Spans in the stored trace")
    truncated: bool = Field(description="True when the server's span limit left spans out")


class SpanStatus(BaseModel):
    code: str = Field(description="Unset, Ok or Error")
    message: str = ""


class SpanEvent(BaseModel):
    name: str
    timestamp: str
    attributes: dict[str, Any] = Field(default_factory=dict)


class SpanLink(BaseModel):
    trace_id: str
    span_id: str
    attributes: dict[str, Any] = Field(default_factory=dict)


class SpanDetail(BaseModel):
    span_id: str
    trace_id: str
    parent_span_id: str = ""
    service: str
    span_name: str
    start_time: str
    duration_us: int
    status: SpanStatus
    attributes: dict[str, Any] = Field(default_factory=dict)
    events: list[SpanEvent] = Field(default_factory=list)
    links: list[SpanLink] = Field(default_factory=list)


class GetSpanDetailsOutput(BaseModel):
    trace_id: str
    spans: list[SpanDetail] = Field(default_factory=list)
    error: str = Field(default="", description="The requested span ids not in the trace, if any")


class GetTraceErrorsOutput(BaseModel):
    trace_id: str
    total_error_count: int = Field(description="Error spans in the trace; more than 'spans' holds when truncated")
    spans: list[SpanDetail] = Field(default_factory=list)


def register(server: MCPServer, context: ToolContext) -> None:
    clip = context.clip
    options = context.options

    @server.tool(
        name="get_trace_topology",
        description=(
            "The shape of a trace as a flat depth-first list of spans; each span's "
            "'path' holds the span ids from the root down to it (root/parent/span)."
            " No attributes, events or links."
        ),
    )
    def get_trace_topology(
        trace_id: TraceIdArg,
        depth: Annotated[
            int, Field(description=("Deepest level to list: 1 roots only, 2 roots and children, 0 all"))
        ] = 0,
    ) -> GetTraceTopologyOutput:
        if depth < 0:
            raise ToolError("depth must not be negative")
        trace = context.load_trace(trace_id)
        kept = sorted(trace.spans, key=lambda span: span.start_ns)[: options.max_trace_spans]
        tree = build_tree(nodes_from_records(kept))
        statuses = {record.span_id.hex(): status_name(record.status_code) for record in kept}
        spans = [
            TopologySpan(
                path=listed.path,
                service=clip(listed.node.service),
                span_name=clip(listed.node.name),
                start_time=rfc3339(listed.node.start_us * 1000),
                duration_us=listed.node.duration_us,
                status=statuses[listed.node.span_id],
                truncated_children=listed.truncated_children,
            )
            for listed in depth_first(tree, depth)
        ]
        return GetTraceTopologyOutput(
            trace_id=trace.spans[0].trace_id.hex(),
            spans=spans,
            total_span_count=len(trace.spans),
            truncated=len(kept) < len(trace.spans),
        )

    @server.tool(
        name="get_span_details",
        description=(
            "Everything about chosen spans of a trace: attributes, events, links, status. Verbose; ask for few spans."
        ),
    )
    def get_span_details(
        trace_id: TraceIdArg,
        span_ids: Annotated[
            list[str], Field(description=("Span ids (16 hex digits), at most the server's limit (20 by default)"))
        ],
    ) -> GetSpanDetailsOutput:
        if not span_ids:
            raise ToolError("span_ids is required and must not be empty")
        if len(span_ids) > options.max_span_details_per_request:
            raise ToolError(
                f"span_ids exceeds maximum limit: requested {len(span_ids)}, "
                f"max allowed {options.max_span_details_per_request}"
            )
        wanted = [parse_span_id(text) for text in span_ids]
        trace = context.load_trace(trace_id)
        by_id = {span.span_id: span for span in trace.spans}
        found = [by_id[span_id] for span_id in dict.fromkeys(wanted) if span_id in by_id]
        missing = [span_id.hex() for span_id in dict.fromkeys(wanted) if span_id not in by_id]
        return GetSpanDetailsOutput(
            trace_id=trace.spans[0].trace_id.hex(),
            spans=[span_detail(record, context) for record in found],
            error=f"spans not found: {', '.join(missing)}" if missing else "",
        )

    @server.tool(
        name="get_trace_errors",
        description=(
            "Every error span of a trace in full (attributes, events, status). "
            "Compare total_error_count with the spans returned to see whether the "
            "server's limit cut the list."
        ),
    )
    def get_trace_errors(
        trace_id: TraceIdArg,
    ) -> GetTraceErrorsOutput:
        trace = context.load_trace(trace_id)
        failed = sorted((span for span in trace.spans if span.status_code == STATUS_ERROR), key=lambda s: s.start_ns)
        return GetTraceErrorsOutput(
            trace_id=trace.spans[0].trace_id.hex(),
            total_error_count=len(failed),
            spans=[span_detail(record, context) for record in failed[: options.max_span_details_per_request]],
        )


def _attributes(values: Any, context: ToolContext) -> dict[str, Any]:
    pairs: list[KeyValue] = list(values)
    return {context.clip(pair.key): context.clip_value(plain(pair.value)) for pair in pairs}


def span_detail(record: SpanRecord, context: ToolContext) -> SpanDetail:
    """One stored span in full, every string from it clipped."""
    span, undecodable = decode_span(record)
    attributes = _attributes(span.attributes, context)
    if undecodable:
        attributes["jaeger.warning"] = undecodable
    return SpanDetail(
        span_id=record.span_id.hex(),
        trace_id=record.trace_id.hex(),
        parent_span_id=record.parent_span_id.hex(),
        service=context.clip(record.service),
        span_name=context.clip(record.name),
        start_time=rfc3339(record.start_ns),
        duration_us=record.duration_ns // 1000,
        status=SpanStatus(code=status_name(record.status_code), message=context.clip(span.status.message)),
        attributes=attributes,
        events=[
            SpanEvent(
                name=context.clip(event.name),
                timestamp=rfc3339(event.time_unix_nano),
                attributes=_attributes(event.attributes, context),
            )
            for event in span.events
        ],
        links=[
            SpanLink(
                trace_id=link.trace_id.hex(),
                span_id=link.span_id.hex(),
                attributes=_attributes(link.attributes, context),
            )
            for link in span.links
        ],
    )
