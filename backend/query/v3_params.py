"""Request parameters of ``/api/v3/*``, named and checked as Jaeger's api_v3 gateway does.

Jaeger accepts the proto3 JSON names (``query.serviceName``, ``query.startTimeMin``…)
and, for compatibility, the older snake_case ones (``query.service_name``…);
so does this module, preferring the camelCase name when both are sent.  Times
are RFC 3339 with up to nanosecond precision; durations are Go durations.
"""

from __future__ import annotations

import calendar
import json
import re
from datetime import datetime

from werkzeug.datastructures import MultiDict

from backend.query.params import SPAN_KINDS, QueryLimits, non_negative_duration_ns, trace_id_from_text
from backend.query.responses import ApiError
from backend.query.v3_filter import PARAM as FILTER_PARAM
from backend.query.v3_filter import parse_filter
from backend.storage.api import TraceQuery

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
_UNSIGNED = re.compile(r"\d+")


def _get(args: MultiDict[str, str], canonical: str, deprecated: str) -> tuple[str, str]:
    """The value sent and the name it was sent under."""
    value = args.get(canonical, "")
    if value:
        return value, canonical
    return args.get(deprecated, ""), deprecated


def _malformed(name: str, reason: str) -> ApiError:
    return ApiError(400, f"malformed parameter {name}: {reason}")


def parse_rfc3339_ns(text: str, name: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 time such as ``2024-05-01T10:00:00.5Z``."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise _malformed(name, f"{text!r} is not an RFC 3339 time (e.g. 2024-05-01T10:00:00Z)")
    year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
    try:
        datetime(year, month, day, hour, minute, second)
        if match.group(9) and (int(match.group(10)) > 23 or int(match.group(11)) > 59):
            raise ValueError("offset out of range")
    except ValueError as exc:
        raise _malformed(name, f"{text!r} is not a valid time: {exc}") from None
    seconds = calendar.timegm((year, month, day, hour, minute, second))
    if match.group(9):
        offset = int(match.group(10)) * 3600 + int(match.group(11)) * 60
        seconds -= offset if match.group(9) == "+" else -offset
    fraction = int((match.group(7) or "").ljust(9, "0"))
    return seconds * 1_000_000_000 + fraction


def parse_v3_trace_id(text: str) -> bytes:
    try:
        return trace_id_from_text(text)
    except ValueError as exc:
        raise _malformed("trace_id", str(exc)) from None


def parse_v3_trace_window(args: MultiDict[str, str]) -> None:
    """``startTime``/``endTime`` of a get-trace are storage hints in Jaeger; ours reads by id, so only check them."""
    for canonical, deprecated in (("startTime", "start_time"), ("endTime", "end_time")):
        text, name = _get(args, canonical, deprecated)
        if text:
            parse_rfc3339_ns(text, name)


def parse_v3_span_kind(args: MultiDict[str, str]) -> str | None:
    kind, name = _get(args, "spanKind", "span_kind")
    if kind and kind not in SPAN_KINDS:
        raise _malformed(name, f"unsupported span kind {kind!r} (one of {', '.join(SPAN_KINDS)})")
    return kind or None


def _duration(args: MultiDict[str, str], canonical: str, deprecated: str) -> int | None:
    text, name = _get(args, canonical, deprecated)
    if not text:
        return None
    try:
        return non_negative_duration_ns(text)
    except ValueError as exc:
        raise _malformed(name, str(exc)) from None


def _attributes(args: MultiDict[str, str]) -> dict[str, str]:
    text = args.get("query.attributes", "")
    if not text:
        return {}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _malformed("query.attributes", f"not JSON: {exc}") from None
    if not isinstance(document, dict) or not all(isinstance(value, str) for value in document.values()):
        raise _malformed("query.attributes", 'expecting a JSON object of string values, e.g. {"http.method":"GET"}')
    return document


def parse_v3_search(args: MultiDict[str, str], limits: QueryLimits) -> TraceQuery:
    start_text, start_name = _get(args, "query.startTimeMin", "query.start_time_min")
    end_text, end_name = _get(args, "query.startTimeMax", "query.start_time_max")
    if not start_text or not end_text:
        raise ApiError(400, "query.start_time_min and query.start_time_max are required")
    start_ns = parse_rfc3339_ns(start_text, start_name)
    end_ns = parse_rfc3339_ns(end_text, end_name)
    if start_ns > end_ns:
        raise _malformed(start_name, f"must not be after {end_name}")

    depth_text, depth_name = _get(args, "query.searchDepth", "query.search_depth")
    if not depth_text:
        depth_text, depth_name = args.get("query.num_traces", ""), "query.num_traces"
    limit = limits.default_search_limit
    if depth_text:
        if not _UNSIGNED.fullmatch(depth_text):
            raise _malformed(depth_name, f"{depth_text!r} is not a non-negative integer")
        limit = int(depth_text) or limits.default_search_limit
    if limit > limits.max_search_limit:
        raise _malformed(depth_name, f"must be at most {limits.max_search_limit}")

    min_duration = _duration(args, "query.durationMin", "query.duration_min")
    max_duration = _duration(args, "query.durationMax", "query.duration_max")
    if min_duration and max_duration and max_duration < min_duration:
        raise _malformed("query.duration_max", "must not be less than query.duration_min")

    service, service_name = _get(args, "query.serviceName", "query.service_name")
    operation, operation_name = _get(args, "query.operationName", "query.operation_name")
    filter_text = args.get(FILTER_PARAM, "")
    if filter_text:
        legacy = [
            name
            for name, given in (
                (service_name, service),
                (operation_name, operation),
                ("query.durationMin", min_duration is not None),
                ("query.durationMax", max_duration is not None),
                ("query.attributes", args.get("query.attributes", "")),
            )
            if given
        ]
        if legacy:
            raise _malformed(FILTER_PARAM, f"cannot be combined with {', '.join(legacy)} (say it in the filter)")
        parsed = parse_filter(filter_text)
        return TraceQuery(
            service=parsed.service,
            operation=parsed.operation,
            span_kind=parsed.span_kind,
            duration_min_ns=parsed.duration_min_ns,
            duration_max_ns=parsed.duration_max_ns,
            attribute_filters=tuple(parsed.attributes),
            start_min_ns=start_ns,
            start_max_ns=end_ns,
            limit=limit,
        )
    return TraceQuery(
        service=service or None,
        operation=operation or None,
        tags=_attributes(args),
        duration_min_ns=min_duration or None,
        duration_max_ns=max_duration or None,
        start_min_ns=start_ns,
        start_max_ns=end_ns,
        limit=limit,
    )
