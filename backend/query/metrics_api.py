"""``/api/metrics/*``: Jaeger's metrics query API (the Monitor tab's data) with its parameters and JSON.

Parameters as Jaeger's query parser takes them: ``service`` (repeated,
required), ``groupByOperation``, ``spanKind`` (repeated, default ``server``),
``endTs`` (unix ms, default now), ``lookback``, ``step`` and ``ratePer`` (ms;
default 1h, 5s, 10m) and, for latencies, ``quantile``.  A bad parameter is a
400 in the envelope; with no metrics reader configured every endpoint
answers 501, as Jaeger's disabled metrics store does; a Prometheus that
fails is a 500.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.datastructures import MultiDict

from backend.processors.spanmetrics.queries import (
    DEFAULT_SPAN_KINDS,
    MAX_POINTS,
    MetricsQuery,
    MetricsQueryFailed,
    MetricsReader,
    MetricsUnavailable,
)
from backend.query.params import parse_integer
from backend.query.responses import ApiError, envelope, envelope_error, json_response
from backend.spans.model import KIND_BY_NAME

_MS = 1_000_000
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_DEFAULT_MS = {"lookback": 3_600_000, "step": 5_000, "ratePer": 600_000}
_DISABLED = "metrics querying is currently disabled: configure jaeger_query.storage.metrics and a spanmetrics processor"


def _bool(args: MultiDict[str, str], name: str) -> bool:
    text = args.get(name, "")
    if text == "" or text in _FALSE:
        return False
    if text in _TRUE:
        return True
    raise ApiError(400, f"unable to parse param '{name}': {text!r} is not a boolean")


def _positive_ms(args: MultiDict[str, str], name: str) -> int:
    value = parse_integer(args, name)
    if value is None:
        return _DEFAULT_MS[name] * _MS
    if value <= 0:
        raise ApiError(400, f"unable to parse param '{name}': expected a positive number of milliseconds, got {value}")
    return value * _MS


def parse_metrics_query(args: MultiDict[str, str], now_ns: int) -> MetricsQuery:
    services = args.getlist("service")
    if not services:
        raise ApiError(400, "unable to parse param 'service': please provide at least one service name")
    kinds = args.getlist("spanKind")
    for kind in kinds:
        if kind not in KIND_BY_NAME:
            raise ApiError(400, f"unable to parse param 'spanKind': unsupported span kind: '{kind}'")
    end_ms = parse_integer(args, "endTs")
    if end_ms is not None and end_ms < 0:
        raise ApiError(400, f"unable to parse param 'endTs': expected unix milliseconds, got {end_ms}")
    query = MetricsQuery(
        services=tuple(services),
        end_ns=now_ns if end_ms is None else end_ms * _MS,
        group_by_operation=_bool(args, "groupByOperation"),
        span_kinds=frozenset(KIND_BY_NAME[kind] for kind in kinds) if kinds else DEFAULT_SPAN_KINDS,
        lookback_ns=_positive_ms(args, "lookback"),
        step_ns=_positive_ms(args, "step"),
        rate_per_ns=_positive_ms(args, "ratePer"),
    )
    if query.lookback_ns // query.step_ns + 1 > MAX_POINTS:
        raise ApiError(400, f"lookback / step asks for more than {MAX_POINTS} points per series; use a larger step")
    return query


def _quantile(args: MultiDict[str, str]) -> float:
    text = args.get("quantile", "")
    try:
        value = float(text)
    except ValueError:
        raise ApiError(400, f"unable to parse param 'quantile': {text!r} is not a number") from None
    if math.isnan(value) or not 0 <= value <= 1:
        raise ApiError(400, f"unable to parse param 'quantile': expected a number from 0 to 1, got {text}")
    return value


def blueprint(reader: MetricsReader | None) -> Blueprint:
    api = Blueprint("metrics_api", __name__, url_prefix="/api/metrics")

    def answer(compute: Callable[[MetricsReader], Any]) -> Response:
        if reader is None:
            return envelope_error(501, _DISABLED)
        try:
            return json_response(compute(reader))
        except ApiError as exc:
            return envelope_error(exc.status, exc.message)
        except MetricsUnavailable as exc:
            return envelope_error(501, str(exc))
        except MetricsQueryFailed as exc:
            return envelope_error(500, str(exc))

    def query() -> MetricsQuery:
        return parse_metrics_query(request.args, time.time_ns())

    @api.get("/latencies")
    def latencies() -> Response:
        return answer(lambda r: r.latencies(query(), _quantile(request.args)))

    @api.get("/calls")
    def calls() -> Response:
        return answer(lambda r: r.call_rates(query()))

    @api.get("/errors")
    def errors() -> Response:
        return answer(lambda r: r.error_rates(query()))

    @api.get("/minstep")
    def minstep() -> Response:
        return answer(lambda r: envelope(r.min_step_ms()))

    return api
