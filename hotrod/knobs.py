"""The switches a workshop flips while the demo runs: HotROD's fix flags and the fault knobs.

One ``Knobs`` object is read by the services on every request, so a change made through the
admin endpoint takes effect on the next dispatch without a restart. Updates are validated as a
whole before any field changes, so a bad request never leaves the knobs half-applied.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from hotrod.settings import SERVICES, Settings

MAX_EXTRA_LATENCY_MS = 60_000.0
MAX_DB_QUERY_DELAY_MS = 60_000.0
MAX_WORKER_POOL = 256


class KnobError(ValueError):
    """An update the knobs refuse; the message says which field and why."""


@dataclass
class KnobValues:
    db_query_delay_ms: float = 300.0
    db_conn_mutex_disabled: bool = False
    route_worker_pool_size: int = 3
    driver_error_rate: float = 0.2
    dispatch_failure_rate: float = 0.0
    extra_latency_ms: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SERVICES, 0.0))


def _number(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KnobError(f"{name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise KnobError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
    return float(value)


def _validated(current: KnobValues, update: dict[str, Any]) -> KnobValues:
    if not isinstance(update, dict):
        raise KnobError("the body must be a JSON object")
    values = KnobValues(**{**asdict(current), "extra_latency_ms": dict(current.extra_latency_ms)})
    for name, value in update.items():
        if name == "db_query_delay_ms":
            values.db_query_delay_ms = _number(name, value, 0.0, MAX_DB_QUERY_DELAY_MS)
        elif name == "db_conn_mutex_disabled":
            if not isinstance(value, bool):
                raise KnobError(f"{name} must be true or false, got {value!r}")
            values.db_conn_mutex_disabled = value
        elif name == "route_worker_pool_size":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WORKER_POOL:
                raise KnobError(f"{name} must be an integer from 1 to {MAX_WORKER_POOL}, got {value!r}")
            values.route_worker_pool_size = value
        elif name in ("driver_error_rate", "dispatch_failure_rate"):
            setattr(values, name, _number(name, value, 0.0, 1.0))
        elif name == "extra_latency_ms":
            if not isinstance(value, dict):
                raise KnobError(f'{name} must be an object like {{"customer": 100}}')
            for service, ms in value.items():
                if service not in SERVICES:
                    raise KnobError(f"{name}: unknown service {service!r} (one of {', '.join(SERVICES)})")
                values.extra_latency_ms[service] = _number(f"{name}.{service}", ms, 0.0, MAX_EXTRA_LATENCY_MS)
        else:
            raise KnobError(f"unknown knob {name!r} (known: {', '.join(asdict(current))})")
    return values


class Knobs:
    """Thread-safe holder of the current ``KnobValues``; readers get a consistent snapshot."""

    def __init__(self, values: KnobValues | None = None) -> None:
        self._values = values or KnobValues()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Knobs:
        return cls(
            KnobValues(
                db_query_delay_ms=settings.fix_db_query_delay * 1000.0,
                db_conn_mutex_disabled=settings.fix_disable_db_conn_mutex,
                route_worker_pool_size=settings.fix_route_worker_pool_size,
                driver_error_rate=settings.driver_error_rate,
                dispatch_failure_rate=settings.dispatch_failure_rate,
            )
        )

    @property
    def values(self) -> KnobValues:
        return self._values  # replaced whole on update, never mutated: a safe snapshot

    def as_dict(self) -> dict[str, Any]:
        return asdict(self._values)

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._values = _validated(self._values, changes)
            return asdict(self._values)
