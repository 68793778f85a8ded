"""Request parameters of the ``/api/*`` endpoints, parsed as Jaeger's query service parses them.

Every malformed value raises ``ApiError(400)`` naming the parameter, so a bad
query can never reach storage (or turn into a 500).  Parameters Jaeger does not
know are ignored, as Jaeger ignores them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from backend.core.durations import parse_duration_ns
from backend.query import MAX_UPLOAD_BYTES
from backend.query.responses import ApiError
from backend.query.tag_params import parse_tag_params
from backend.storage.api import TraceQuery

_INTEGER = re.compile(r"[+-]?\d+")
_HEX = re.compile(r"[0-9a-fA-F]+")
_DAYS = re.compile(r"(\d+)d")
_NS_PER_US = 1_000
_NS_PER_MS = 1_000_000
_DAY_NS = 86_400_000_000_000

SPAN_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """The bounds a search may ask for; Jaeger's own defaults where it has them."""

    default_search_limit: int = 100
    max_search_limit: int = 1500
    max_trace_ids: int = 100
    default_lookback_ns: int = 2 * _DAY_NS
    default_dependency_lookback_ns: int = _DAY_NS
    max_transform_bytes: int = MAX_UPLOAD_BYTES  # a trace file posted to be read whole (jaeger_query.max_upload_bytes)


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A ``/api/traces`` request: either a multi-get (``trace_ids``) or a search (``query``)."""

    trace_ids: list[bytes]
    query: TraceQuery


def trace_id_from_text(text: str) -> bytes:
    """Jaeger's rule: 1 to 32 hex digits, shorter (64-bit) ids padded with zeros on the left."""
    if not text or len(text) > 32 or not _HEX.fullmatch(text):
        raise ValueError(f"{text!r} is not a trace id of 1 to 32 hex digits")
    return bytes.fromhex(text.rjust(32, "0"))


def parse_trace_id(text: str) -> bytes:
    try:
        return trace_id_from_text(text)
    except ValueError as exc:
        raise ApiError(400, f"unable to parse param 'traceID': {exc}") from None


def parse_integer(args: MultiDict[str, str], name: str) -> int | None:
    """An optional decimal integer; ``None`` when absent or empty (Jaeger treats both alike)."""
    text = args.get(name, "")
    if text == "":
        return None
    if not _INTEGER.fullmatch(text):
        raise ApiError(400, f"unable to parse param '{name}': {text!r} is not an integer")
    return int(text)


def non_negative_duration_ns(text: str) -> int:
    """A Go duration (``1.2s``, ``300ms``, ``100us``) in nanoseconds; ``ValueError`` if malformed or negative."""
    value = parse_duration_ns(text)
    if value < 0:
        raise ValueError(f"{text!r} is negative")
    return value


def parse_duration(args: MultiDict[str, str], name: str) -> int | None:
    text = args.get(name, "")
    if text == "":
        return None
    try:
        return non_negative_duration_ns(text)
    except ValueError as exc:
        raise ApiError(400, f"unable to parse param '{name}': {exc}") from None


def parse_lookback(args: MultiDict[str, str]) -> int | None:
    """The UI's ``lookback`` (``1h``, ``2d``; ``custom`` means start and end say it all)."""
    text = args.get("lookback", "")
    if text in ("", "custom"):
        return None
    days = _DAYS.fullmatch(text)
    if days:
        return int(days.group(1)) * _DAY_NS
    return parse_duration(args, "lookback")


def parse_span_kind(args: MultiDict[str, str], name: str) -> str | None:
    kind = args.get(name, "")
    if kind == "":
        return None
    if kind not in SPAN_KINDS:
        raise ApiError(400, f"unable to parse param '{name}': unsupported span kind {kind!r} (one of {SPAN_KINDS})")
    return kind


def parse_search(args: MultiDict[str, str], now_ns: int, limits: QueryLimits) -> SearchRequest:
    """``/api/traces``: search by service and filters, or fetch the given ``traceID`` values."""
    trace_ids = [parse_trace_id(text) for text in args.getlist("traceID")]
    if len(trace_ids) > limits.max_trace_ids:
        raise ApiError(400, f"invalid parameter: at most {limits.max_trace_ids} traceID values per request")
    service = args.get("service", "")
    if not trace_ids and not service:
        raise ApiError(400, "parameter 'service' is required")

    end_us = parse_integer(args, "end")
    end_ns = now_ns if end_us is None else end_us * _NS_PER_US
    start_us = parse_integer(args, "start")
    lookback_ns = parse_lookback(args)
    if start_us is not None:
        start_ns = start_us * _NS_PER_US
    else:
        start_ns = end_ns - (limits.default_lookback_ns if lookback_ns is None else lookback_ns)
    if start_ns > end_ns:
        raise ApiError(400, "invalid parameter: start time must be before end time")

    limit = parse_integer(args, "limit")
    if limit is None:
        limit = limits.default_search_limit
    if limit <= 0:
        raise ApiError(400, "invalid parameter: limit must be greater than 0")
    if limit > limits.max_search_limit:
        raise ApiError(400, f"invalid parameter: limit must be at most {limits.max_search_limit}")

    min_duration = parse_duration(args, "minDuration")
    max_duration = parse_duration(args, "maxDuration")
    if min_duration and max_duration and max_duration < min_duration:
        raise ApiError(400, "'maxDuration' should be greater than 'minDuration'")

    query = TraceQuery(
        service=service or None,
        operation=args.get("operation") or None,
        tags=parse_tag_params(args.getlist("tag"), args.getlist("tags")),
        start_min_ns=start_ns,
        start_max_ns=end_ns,
        duration_min_ns=min_duration or None,
        duration_max_ns=max_duration or None,
        limit=limit,
    )
    return SearchRequest(trace_ids, query)


def parse_dependencies(args: MultiDict[str, str], now_ns: int, limits: QueryLimits) -> tuple[int, int]:
    """``endTs`` and ``lookback`` in milliseconds, as Jaeger's dependencies endpoint takes them."""
    end_ms = parse_integer(args, "endTs")
    lookback_ms = parse_integer(args, "lookback")
    end_ns = now_ns if end_ms is None else end_ms * _NS_PER_MS
    lookback_ns = limits.default_dependency_lookback_ns if lookback_ms is None else lookback_ms * _NS_PER_MS
    if lookback_ns < 0:
        raise ApiError(400, "unable to parse param 'lookback': must not be negative")
    return end_ns, lookback_ns
