"""Jaeger's metrics reader over a real Prometheus that scrapes spanmetrics, as Jaeger's own Prometheus reader does.

The PromQL is the one Jaeger sends, over the connector's names (which the
backend's metrics endpoint also exposes): call rate is
``sum(rate(traces_span_metrics_calls_total{...}[ratePer])) by (service_name[, span_name])``,
error rate the same over ``status_code="STATUS_CODE_ERROR"`` divided by it
(0 for groups with calls and no errors), latency ``histogram_quantile`` over
the duration buckets.  Results become the same ``MetricFamily`` JSON as the
in-process store's, with ``span_name`` renamed ``operation`` as Jaeger does.
"""

from __future__ import annotations

import math
import re
from typing import Any

import requests

from backend.processors.spanmetrics.prometheus import CALLS, DURATION
from backend.processors.spanmetrics.queries import (
    CALLS_HELP,
    ERRORS_HELP,
    MetricsQuery,
    MetricsQueryFailed,
    family,
    latencies_help,
    point,
    series,
)
from backend.spans.model import KIND_NAMES


def _string(text: str) -> str:
    """A PromQL double-quoted string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _selector(query: MetricsQuery, extra: str = "") -> str:
    services = "|".join(re.escape(name) for name in query.services)
    kinds = "|".join(f"SPAN_KIND_{KIND_NAMES[kind].upper()}" for kind in sorted(query.span_kinds))
    return f"service_name=~{_string(services)}, span_kind=~{_string(kinds)}{extra}"


class PrometheusMetricsReader:
    def __init__(self, endpoint: str, timeout_s: float = 10.0) -> None:
        self._url = endpoint.rstrip("/") + "/api/v1/query_range"
        self._timeout = timeout_s
        self._session = requests.Session()

    def min_step_ms(self) -> int:
        return 1  # Prometheus' own resolution

    def call_rates(self, query: MetricsQuery) -> dict[str, Any]:
        promql = f"sum(rate({CALLS}_total{{{_selector(query)}}}[{self._window(query)}])) by ({self._by(query)})"
        return family("call_rate", CALLS_HELP, query, self._series(query, promql))

    def error_rates(self, query: MetricsQuery) -> dict[str, Any]:
        window, by = self._window(query), self._by(query)
        errors = _selector(query, ', status_code="STATUS_CODE_ERROR"')
        promql = (
            f"sum(rate({CALLS}_total{{{errors}}}[{window}])) by ({by})"
            f" / sum(rate({CALLS}_total{{{_selector(query)}}}[{window}])) by ({by})"
        )
        found = self._series(query, promql)
        if found:
            return family("error_rate", ERRORS_HELP, query, found)
        # No error series at all: every group with calls has an error rate of 0, as Jaeger answers.
        calls = self._series(query, f"sum(rate({CALLS}_total{{{_selector(query)}}}[{window}])) by ({by})")
        for entry in calls:
            for each in entry["metricPoints"]:
                each["gaugeValue"]["doubleValue"] = 0.0
        return family("error_rate", ERRORS_HELP, query, calls)

    def latencies(self, query: MetricsQuery, quantile: float) -> dict[str, Any]:
        rates = f"sum(rate({DURATION}_bucket{{{_selector(query)}}}[{self._window(query)}])) by ({self._by(query)}, le)"
        promql = f"histogram_quantile({quantile!r}, {rates})"
        return family("latencies", latencies_help(quantile), query, self._series(query, promql))

    @staticmethod
    def _window(query: MetricsQuery) -> str:
        return f"{query.rate_per_ns // 1_000_000}ms"

    @staticmethod
    def _by(query: MetricsQuery) -> str:
        return "service_name, span_name" if query.group_by_operation else "service_name"

    def _series(self, query: MetricsQuery, promql: str) -> list[dict[str, Any]]:
        params = {
            "query": promql,
            "start": f"{(query.end_ns - query.lookback_ns) / 1e9:.3f}",
            "end": f"{query.end_ns / 1e9:.3f}",
            "step": f"{query.step_ns / 1e9:.3f}",
        }
        try:
            response = self._session.get(self._url, params=params, timeout=self._timeout)
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise MetricsQueryFailed(f"failed executing metrics query: {exc}") from exc
        if body.get("status") != "success":
            raise MetricsQueryFailed(f"failed executing metrics query: {body.get('error', response.status_code)}")
        found = []
        for result in body["data"]["result"]:
            labels = result["metric"]
            points = [
                point(float(value), round(float(at) * 1e9))
                for at, value in result["values"]
                if not math.isnan(float(value)) and not math.isinf(float(value))
            ]
            operation = labels.get("span_name", "") if query.group_by_operation else None
            found.append(series(labels.get("service_name", ""), operation, points))
        return sorted(found, key=lambda entry: [label["value"] for label in entry["labels"]])
