"""Route calculation and its bookkeeping.

The work is simulated by sleeping, as in HotROD, not by burning CPU: with every service in one
Python process (``hotrod all``) CPU-bound work would serialise on the GIL and hide the worker
pool bug the demo is about. The ETA itself comes from the Manhattan distance on the grid.

The calculation time is counted per customer and per session, names taken from baggage (the
page sets ``session``, the frontend adds ``customer``): tracing data feeding metrics, which is
HotROD's point. Sessions are unbounded, so only the first ``max_sessions`` get their own label.
"""

from __future__ import annotations

import random
import threading
import time
import zlib
from dataclasses import dataclass

from opentelemetry import baggage, trace
from prometheus_client import CollectorRegistry, Counter

from hotrod import delay
from hotrod.driver.fleet import grid_to_lonlat
from hotrod.knobs import Knobs

CALC_DELAY_S, CALC_STDDEV_S = 0.050, 0.0125
SECONDS_PER_CELL = 1.25  # 10 m cells at ~8 m/s
MIN_ETA_S = 120.0
DEFAULT_MAX_SESSIONS = 1000
OVERFLOW_LABEL = "other"


@dataclass(frozen=True)
class Route:
    pickup: str
    dropoff: str
    eta_seconds: float


class RouteUnavailable(Exception):
    """The injected top-level failure: this dispatch's routes cannot be computed."""


class _BoundedLabels:
    def __init__(self, limit: int) -> None:
        self._seen: set[str] = set()
        self._limit = limit
        self._lock = threading.Lock()

    def label(self, value: str) -> str:
        with self._lock:
            if value in self._seen:
                return value
            if len(self._seen) < self._limit:
                self._seen.add(value)
                return value
            return OVERFLOW_LABEL


def _dispatch_fraction() -> float:
    """Where this dispatch falls in [0, 1): the same for every route call of one trace."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        return (context.trace_id % 10_000) / 10_000
    request_id = baggage.get_baggage("request")
    if request_id is not None:
        return (zlib.crc32(str(request_id).encode()) % 10_000) / 10_000
    return random.random()


class RouteCalculator:
    def __init__(
        self,
        knobs: Knobs,
        registry: CollectorRegistry,
        delay_scale: float = 1.0,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
    ) -> None:
        self._knobs = knobs
        self._scale = delay_scale
        self._sessions = _BoundedLabels(max_sessions)
        self._by_customer = Counter(
            "hotrod_route_calc_by_customer_seconds",
            "Route calculation time per customer",
            ["customer"],
            registry=registry,
        )
        self._by_session = Counter(
            "hotrod_route_calc_by_session_seconds", "Route calculation time per session", ["session"], registry=registry
        )

    def compute(self, pickup: str, dropoff: str) -> Route:
        """ETA from pickup to dropoff (both "x,y"); ValueError when malformed, RouteUnavailable when injected."""
        (ax, ay), (bx, by) = _cell(pickup), _cell(dropoff)
        rate = self._knobs.values.dispatch_failure_rate
        if rate > 0 and _dispatch_fraction() < rate:
            raise RouteUnavailable(
                f"road graph shard for pickup {pickup} is unavailable (injected fault: dispatch_failure_rate={rate:g})"
            )
        started = time.perf_counter()
        delay.sleep(CALC_DELAY_S, CALC_STDDEV_S, self._scale)
        cells = abs(ax - bx) + abs(ay - by)
        eta = max(MIN_ETA_S, cells * SECONDS_PER_CELL + random.gauss(0.0, 30.0))
        self._record(time.perf_counter() - started)
        return Route(pickup, dropoff, round(eta, 1))

    def _record(self, seconds: float) -> None:
        customer = baggage.get_baggage("customer")
        session = baggage.get_baggage("session")
        if customer is not None:
            self._by_customer.labels(str(customer)).inc(seconds)
        if session is not None:
            self._by_session.labels(self._sessions.label(str(session))).inc(seconds)


def _cell(location: str) -> tuple[float, float]:
    grid_to_lonlat(location)  # validates
    x, _, y = location.partition(",")
    return float(x), float(y)
