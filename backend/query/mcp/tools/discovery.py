"""Finding what to look at: services, their span names, trace search, and who calls whom."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from typing import Annotated

import re2
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from backend.query.mcp.tools.context import (
    DEFAULT_LIMIT,
    LimitArg,
    PatternArg,
    ToolContext,
    parse_duration,
    parse_time_ns,
    rfc3339,
    storage_call,
)
from backend.query.params import SPAN_KINDS
from backend.spans.model import STATUS_ERROR
from backend.storage.api import Trace, TraceQuery

DEFAULT_SEARCH_DEPTH = 10
_HOUR_NS = 3_600_000_000_000


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a bad pattern is the caller's error, answered to it, not logged


class GetServicesOutput(BaseModel):
    services: list[str] = Field(description="Service names, sorted")
    total_count: int = Field(description="How many services matched before the limit")
    truncated: bool = Field(description="True when the limit left some out; raise it or narrow the pattern")


class SpanNameInfo(BaseModel):
    name: str
    span_kind: str


class GetSpanNamesOutput(BaseModel):
    span_names: list[SpanNameInfo]
    total_count: int = Field(description="How many span names matched before the limit")
    truncated: bool = Field(description="True when the limit left some out")


class TraceSummary(BaseModel):
    trace_id: str
    root_service: str
    root_span_name: str
    start_time: str = Field(description="The trace's first span start, RFC 3339")
    duration_us: int = Field(description="From the first span's start to the last span's end")
    span_count: int
    service_count: int
    services: list[str] = Field(description="Services in the trace, sorted")
    has_errors: bool


class SearchTracesOutput(BaseModel):
    traces: list[TraceSummary] = Field(default_factory=list)
    error: str = Field(default="", description="Why results are missing or partial, if they are")


class DependencyLink(BaseModel):
    caller: str
    callee: str
    call_count: int


class GetDependenciesOutput(BaseModel):
    dependencies: list[DependencyLink]


def _matcher(pattern: str) -> Callable[[str], object] | None:
    """RE2, as Jaeger's Go regexp: linear in the name's length whatever the pattern, so none can hang a query."""
    if not pattern:
        return None
    try:
        search: Callable[[str], object] = re2.compile(pattern, options=_RE2_OPTIONS).search
        return search
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ToolError(f"invalid pattern: {reason}") from None


def register(server: MCPServer, context: ToolContext) -> None:
    clip = context.clip

    @server.tool(
        name="get_services",
        description=("List the names of services that sent spans; 'pattern' filters them by regular expression."),
    )
    def get_services(
        pattern: PatternArg = "",
        limit: LimitArg = DEFAULT_LIMIT,
    ) -> GetServicesOutput:
        matcher = _matcher(pattern)
        names = sorted(storage_call(context.reader.get_services))
        if matcher is not None:
            names = [name for name in names if matcher(name)]
        limit = limit if limit > 0 else DEFAULT_LIMIT
        return GetServicesOutput(
            services=[clip(name) for name in names[:limit]], total_count=len(names), truncated=len(names) > limit
        )

    @server.tool(
        name="get_span_names",
        description=(
            "List the span (operation) names of one service, with their span kinds (SERVER, CLIENT, INTERNAL, ...)."
        ),
    )
    def get_span_names(
        service_name: Annotated[str, Field(description="The service (required); get_services lists them")],
        pattern: PatternArg = "",
        span_kind: Annotated[
            str, Field(description=("Optional kind: SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL"))
        ] = "",
        limit: LimitArg = DEFAULT_LIMIT,
    ) -> GetSpanNamesOutput:
        if not service_name:
            raise ToolError("service_name is required")
        kind = span_kind.strip().lower() or None
        if kind is not None and kind not in SPAN_KINDS:
            raise ToolError(f"invalid span_kind {span_kind[:40]!r}: expected one of {', '.join(SPAN_KINDS).upper()}")
        matcher = _matcher(pattern)
        operations = storage_call(context.reader.get_operations, service_name, kind)
        matched = sorted(
            (op for op in operations if matcher is None or matcher(op.name)),
            key=lambda op: (op.name, op.span_kind),
        )
        limit = limit if limit > 0 else DEFAULT_LIMIT
        return GetSpanNamesOutput(
            span_names=[SpanNameInfo(name=clip(op.name), span_kind=op.span_kind) for op in matched[:limit]],
            total_count=len(matched),
            truncated=len(matched) > limit,
        )

    @server.tool(
        name="search_traces",
        description=(
            "Find traces by service, span name, attributes, errors, duration and "
            "time. Answers short summaries (id, root, duration, span count, "
            "services, errors), no spans."
        ),
    )
    def search_traces(
        start_time_min: Annotated[
            str, Field(description=("Earliest start: RFC 3339 or relative like -1h (default -1h)"))
        ] = "",
        start_time_max: Annotated[
            str, Field(description=("Latest start: RFC 3339 or relative like now (default now)"))
        ] = "",
        service_name: Annotated[str, Field(description="Only traces with spans of this service")] = "",
        span_name: Annotated[str, Field(description="Only traces with a span of this name")] = "",
        attributes: Annotated[
            dict[str, str] | None, Field(description=("Span or resource attributes that must match, key -> value"))
        ] = None,
        with_errors: Annotated[bool, Field(description="Only traces with an error span")] = False,
        duration_min: Annotated[str, Field(description="Shortest span duration, like 100ms or 2s")] = "",
        duration_max: Annotated[str, Field(description="Longest span duration, like 10s")] = "",
        search_depth: Annotated[
            int, Field(description=("At most this many traces (default 10, capped by the server)"))
        ] = DEFAULT_SEARCH_DEPTH,
    ) -> SearchTracesOutput:
        now = time.time_ns()
        start_min = parse_time_ns(start_time_min, "start_time_min") if start_time_min else now - _HOUR_NS
        start_max = parse_time_ns(start_time_max, "start_time_max") if start_time_max else now
        if start_max < start_min:
            raise ToolError("start_time_max must be after start_time_min")
        shortest = parse_duration(duration_min, "duration_min") if duration_min else None
        longest = parse_duration(duration_max, "duration_max") if duration_max else None
        if shortest and longest and longest < shortest:
            raise ToolError("duration_max must be greater than duration_min")
        tags = dict(attributes or {})
        if with_errors:
            tags["error"] = "true"
        depth = search_depth if search_depth > 0 else DEFAULT_SEARCH_DEPTH
        query = TraceQuery(
            service=service_name or None,
            operation=span_name or None,
            tags=tags,
            start_min_ns=start_min,
            start_max_ns=start_max,
            duration_min_ns=shortest,
            duration_max_ns=longest,
            limit=min(depth, context.options.max_search_results),
        )
        try:
            traces = storage_call(context.reader.find_traces, query)
        except ToolError as exc:
            return SearchTracesOutput(error=str(exc))
        return SearchTracesOutput(traces=[_summary(trace, context) for trace in traces if trace.spans])

    @server.tool(
        name="get_service_dependencies",
        description=(
            "The service dependency graph: caller -> callee pairs with call counts "
            "over a time window (default the last 24h)."
        ),
    )
    def get_service_dependencies(
        start_time: Annotated[str, Field(description="Start: RFC 3339 or relative like -24h (default -24h)")] = "",
        end_time: Annotated[str, Field(description="End: RFC 3339 or relative like now (default now)")] = "",
    ) -> GetDependenciesOutput:
        end = parse_time_ns(end_time, "end_time") if end_time else time.time_ns()
        start = parse_time_ns(start_time, "start_time") if start_time else end - 24 * _HOUR_NS
        if start >= end:
            raise ToolError("start_time must be before end_time")
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for link in storage_call(context.dependencies.get_dependencies, end, end - start):
            counts[(link.parent, link.child)] += link.call_count
        return GetDependenciesOutput(
            dependencies=[
                DependencyLink(caller=clip(caller), callee=clip(callee), call_count=count)
                for (caller, callee), count in sorted(counts.items())
            ]
        )


def _summary(trace: Trace, context: ToolContext) -> TraceSummary:
    spans = trace.spans
    roots = [span for span in spans if not span.parent_span_id] or spans
    root = min(roots, key=lambda span: span.start_ns)
    start = min(span.start_ns for span in spans)
    end = max(span.start_ns + span.duration_ns for span in spans)
    services = sorted({span.service for span in spans})
    return TraceSummary(
        trace_id=spans[0].trace_id.hex(),
        root_service=context.clip(root.service),
        root_span_name=context.clip(root.name),
        start_time=rfc3339(start),
        duration_us=(end - start) // 1000,
        span_count=len(spans),
        service_count=len(services),
        services=[context.clip(service) for service in services],
        has_errors=any(span.status_code == STATUS_ERROR for span in spans),
    )
