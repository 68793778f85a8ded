"""What every tool shares: the storage's readers (nothing that writes), the limits, and argument parsing.

Strings that come out of storage are data written by whoever sent the spans
(a span name can hold markup or text addressed to an agent), so each passes
through ``clip``: returned as a JSON string, never longer than the limit, the
cut said in the text.  Bad arguments raise ``ToolError``, which the SDK answers
as an MCP error result naming the problem.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from backend.core.durations import parse_duration_ns
from backend.query.mcp.options import McpOptions
from backend.query.params import trace_id_from_text
from backend.storage.api import DependencyReader, SpanReader, StorageError, Trace

_SPAN_ID = re.compile(r"[0-9a-fA-F]{16}")
P = ParamSpec("P")
R = TypeVar("R")
DEFAULT_LIMIT = 100

# Arguments several tools take, described once so that every tool tells an agent the same.
TraceIdArg = Annotated[str, Field(description="The trace id (32 hex digits)")]
PatternArg = Annotated[str, Field(description="Optional regular expression the names must match")]
LimitArg = Annotated[int, Field(description=f"At most this many names (default {DEFAULT_LIMIT})")]


@dataclass(frozen=True, slots=True)
class ToolContext:
    reader: SpanReader
    dependencies: DependencyReader
    options: McpOptions

    def clip(self, text: str) -> str:
        limit = self.options.max_string_length
        if len(text) <= limit:
            return text
        return f"{text[:limit]}… (truncated from {len(text)} characters)"

    def clip_value(self, value: Any) -> Any:
        """An attribute value with every string in it clipped (arrays and maps too)."""
        if isinstance(value, str):
            return self.clip(value)
        if isinstance(value, list):
            return [self.clip_value(item) for item in value]
        if isinstance(value, dict):
            return {self.clip(str(key)): self.clip_value(item) for key, item in value.items()}
        return value

    def load_trace(self, trace_id: str) -> Trace:
        """The stored trace, or ``ToolError`` for a malformed id, a trace not found or a storage failure."""
        if not trace_id:
            raise ToolError("trace_id is required")
        try:
            parsed = trace_id_from_text(trace_id)
        except ValueError as exc:
            raise ToolError(f"invalid trace_id: {exc}") from None
        trace = storage_call(self.reader.get_trace, parsed)
        if trace is None or not trace.spans:
            raise ToolError(f"trace not found: {self.clip(trace_id)}")
        return trace


def storage_call(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """``function``'s answer; a storage failure becomes a tool error saying so."""
    try:
        return function(*args, **kwargs)
    except StorageError as exc:
        raise ToolError(f"storage error: {exc}") from None


def parse_span_id(text: str) -> bytes:
    if not _SPAN_ID.fullmatch(text):
        raise ToolError(f"invalid span_id {text[:40]!r}: expected 16 hex digits")
    value = bytes.fromhex(text)
    if value == bytes(8):
        raise ToolError("invalid span_id: it must not be all zero")
    return value


def parse_time_ns(text: str, name: str) -> int:
    """RFC 3339 (with a zone), ``now``, or a negative Go duration relative to now (``-1h``)."""
    text = text.strip()
    if text == "now":
        return time.time_ns()
    if text.startswith("-"):
        try:
            return time.time_ns() - parse_duration_ns(text[1:])
        except ValueError as exc:
            raise ToolError(f"invalid {name}: {exc}") from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ToolError(
            f"invalid {name}: {text[:60]!r} is not RFC 3339 (2026-01-02T15:04:05Z) or relative (-1h, now)"
        ) from None
    if moment.tzinfo is None:
        raise ToolError(f"invalid {name}: {text[:60]!r} has no time zone (add Z or +00:00)")
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def parse_duration(text: str, name: str) -> int:
    try:
        value = parse_duration_ns(text)
    except ValueError as exc:
        raise ToolError(f"invalid {name}: {exc}") from None
    if value < 0:
        raise ToolError(f"invalid {name}: it must not be negative")
    return value


def rfc3339(ns: int) -> str:
    """Nanoseconds since the epoch as RFC 3339 with nanoseconds, in UTC (Go's ``time.RFC3339Nano`` style)."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{fraction:09d}".rstrip("0").rstrip(".") + "Z"
