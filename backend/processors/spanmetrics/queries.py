"""Jaeger's metrics reader over the time-series store: call rates, error rates and latency quantiles.

Each answer is a Jaeger ``MetricFamily`` (as JSON): one gauge series per
service (or per service and operation) with a point every ``step`` from
``end - lookback`` to ``end``.  A point's value covers the buckets that
overlap ``(t - ratePer, t]``, the way Prometheus' ``rate(...[ratePer])``
and ``histogram_quantile`` do over the connector's metrics, so the numbers
match what Jaeger would show with a Prometheus behind it.  Error rate is
errors / calls (0 when a service had calls and no errors); steps with no calls
have no latency or error point, as Prometheus returns none there.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from backend.processors.spanmetrics.hub import MetricsHub
from backend.processors.spanmetrics.series import Cell, SeriesKey
from backend.processors.spanmetrics.store import TimeSeriesStore
from backend.spans.model import KIND_SERVER, STATUS_ERROR

MAX_POINTS = 11_000  # per series, as Prometheus limits a range query
DEFAULT_SPAN_KINDS = frozenset({KIND_SERVER})  # Jaeger's default: a service's own endpoints


class MetricsUnavailable(Exception):
    """No spanmetrics processor fills the metrics this API reads (HTTP 501, as Jaeger's disabled store)."""


class MetricsQueryFailed(Exception):
    """The metrics backend could not answer (HTTP 500, as Jaeger answers a failed Prometheus query)."""


@dataclass(frozen=True, slots=True)
class MetricsQuery:
    services: tuple[str, ...]
    end_ns: int
    group_by_operation: bool = False
    span_kinds: frozenset[int] = DEFAULT_SPAN_KINDS
    lookback_ns: int = 3_600_000_000_000
    step_ns: int = 5_000_000_000
    rate_per_ns: int = 600_000_000_000


Group = tuple[str, ...]  # (service,) or (service, operation)


class _Window:
    """Prefix sums over one group's buckets, so each step's window costs two bisects."""

    def __init__(self, points: list[tuple[int, Cell]], width: int) -> None:
        self.times = [t for t, _ in points]
        self.calls = [0]
        self.counts = [[0] * width]
        for _, cell in points:
            self.calls.append(self.calls[-1] + cell[0])
            self.counts.append([a + b for a, b in zip(self.counts[-1], cell[2], strict=True)])

    def span(self, low_exclusive: int, high: int) -> tuple[int, int]:
        return bisect_right(self.times, low_exclusive), bisect_right(self.times, high)

    def calls_in(self, low_exclusive: int, high: int) -> int:
        first, last = self.span(low_exclusive, high)
        return self.calls[last] - self.calls[first]

    def counts_in(self, low_exclusive: int, high: int) -> list[int]:
        first, last = self.span(low_exclusive, high)
        return [b - a for a, b in zip(self.counts[first], self.counts[last], strict=True)]


def quantile_ms(quantile: float, counts: list[int], bounds_ms: tuple[float, ...]) -> float | None:
    """Prometheus' ``histogram_quantile``: linear within the bucket holding the rank; +Inf gives the top bound."""
    total = sum(counts)
    if not total:
        return None
    rank = quantile * total
    running = 0
    for index, count in enumerate(counts):
        if running + count >= rank and count:
            if index == len(bounds_ms):
                return float(bounds_ms[-1])
            lower = bounds_ms[index - 1] if index else 0.0
            upper = bounds_ms[index]
            return lower + (upper - lower) * (rank - running) / count
        running += count
    return float(bounds_ms[-1])


def _timestamp(ns: int) -> str:
    moment = datetime.fromtimestamp(ns // 1_000_000 / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class MetricsReader(Protocol):
    """What the metrics API reads through: this module's store reader, or a Prometheus."""

    def min_step_ms(self) -> int: ...

    def call_rates(self, query: MetricsQuery) -> dict[str, Any]: ...

    def error_rates(self, query: MetricsQuery) -> dict[str, Any]: ...

    def latencies(self, query: MetricsQuery, quantile: float) -> dict[str, Any]: ...


CALLS_HELP = "calls/sec"
ERRORS_HELP = "error rate, computed as a fraction of errors/sec over calls/sec"


def latencies_help(quantile: float) -> str:
    return f"{quantile:g}th quantile latency, in milliseconds"


def family(name: str, help_text: str, query: MetricsQuery, metrics: list[dict[str, Any]]) -> dict[str, Any]:
    """A Jaeger ``MetricFamily`` named as Jaeger names them (``service_operation_call_rate`` ...)."""
    scope = "service_operation" if query.group_by_operation else "service"
    grouped = "service & operation" if query.group_by_operation else "service"
    return {
        "name": f"{scope}_{name}",
        "type": "GAUGE",
        "help": f"{help_text}, grouped by {grouped}",
        "metrics": metrics,
    }


def series(service: str, operation: str | None, points: list[dict[str, Any]]) -> dict[str, Any]:
    labels = [{"name": "service_name", "value": service}]
    if operation is not None:
        labels.append({"name": "operation", "value": operation})
    return {"labels": labels, "metricPoints": points}


def point(value: float, time_ns: int) -> dict[str, Any]:
    return {"gaugeValue": {"doubleValue": value}, "timestamp": _timestamp(time_ns)}


class StoreMetricsReader:
    """Answers from the in-process time-series store that a spanmetrics processor fills."""

    def __init__(self, hub: MetricsHub) -> None:
        self._hub = hub

    def _store(self) -> TimeSeriesStore:
        store = self._hub.store
        if store is None:
            raise MetricsUnavailable("no spanmetrics processor computes metrics for this storage")
        return store

    def min_step_ms(self) -> int:
        return self._store().resolution_ns // 1_000_000

    def call_rates(self, query: MetricsQuery) -> dict[str, Any]:
        windows = self._windows(query, lambda status: True)
        seconds = query.rate_per_ns / 1e9
        reach = self._reach(query)

        def value(window: _Window, t: int) -> float:
            return window.calls_in(t - reach, t) / seconds

        return self._family(query, "call_rate", CALLS_HELP, windows, value)

    def error_rates(self, query: MetricsQuery) -> dict[str, Any]:
        calls = self._windows(query, lambda status: True)
        errors = self._windows(query, lambda status: status == STATUS_ERROR)
        reach = self._reach(query)

        def value(window: _Window, t: int, group: Group) -> float | None:
            total = window.calls_in(t - reach, t)
            if not total:
                return None
            failed = errors[group].calls_in(t - reach, t) if group in errors else 0
            return failed / total

        return self._family(query, "error_rate", ERRORS_HELP, calls, value, pass_group=True)

    def latencies(self, query: MetricsQuery, quantile: float) -> dict[str, Any]:
        windows = self._windows(query, lambda status: True)
        bounds = self._store().bounds_ms
        reach = self._reach(query)

        def value(window: _Window, t: int) -> float | None:
            return quantile_ms(quantile, window.counts_in(t - reach, t), bounds)

        return self._family(query, "latencies", latencies_help(quantile), windows, value)

    def _reach(self, query: MetricsQuery) -> int:
        """How far before a step a bucket may start and still overlap its rate window."""
        return query.rate_per_ns + self._store().resolution_ns

    def _windows(self, query: MetricsQuery, status_wanted: Callable[[int], bool]) -> dict[Group, _Window]:
        store = self._store()
        services = set(query.services)
        kinds = query.span_kinds
        by_operation = query.group_by_operation

        def group_of(key: SeriesKey) -> Group | None:
            service, name, kind, status = key
            if service not in services or kind not in kinds or not status_wanted(status):
                return None
            return (service, name) if by_operation else (service,)

        start = query.end_ns - query.lookback_ns - self._reach(query)
        selected = store.select(start, query.end_ns, group_of)
        return {group: _Window(points, store.bucket_count) for group, points in selected.items()}

    def _family(
        self,
        query: MetricsQuery,
        metric: str,
        help_text: str,
        windows: dict[Group, _Window],
        value: Callable[..., float | None],
        pass_group: bool = False,
    ) -> dict[str, Any]:
        steps = list(range(query.end_ns - query.lookback_ns, query.end_ns + 1, query.step_ns))
        metrics = []
        for group in sorted(windows):
            window = windows[group]
            points = []
            for t in steps:
                found = value(window, t, group) if pass_group else value(window, t)
                if found is not None:
                    points.append(point(found, t))
            metrics.append(series(group[0], group[1] if query.group_by_operation else None, points))
        return family(metric, help_text, query, metrics)
