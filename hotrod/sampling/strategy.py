"""Reading a Jaeger remote sampling response (``GET /sampling?service=``) into a checked value.

Both JSON shapes in use are accepted: the protobuf JSON of ``/api/sampling``
(``"strategyType": "PROBABILISTIC"``) and the older numeric one of
``/sampling`` (``"strategyType": 0``).  Anything malformed raises
``StrategyError`` so that the sampler keeps its last good strategy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

_TYPES = {0: "probabilistic", 1: "ratelimiting", "PROBABILISTIC": "probabilistic", "RATE_LIMITING": "ratelimiting"}


class StrategyError(ValueError):
    """The endpoint answered something that is not a usable sampling strategy."""


@dataclass(frozen=True, slots=True)
class RemoteStrategy:
    kind: str = "probabilistic"  # or "ratelimiting"
    probability: float = 0.0
    max_traces_per_second: float = 0.0
    has_operations: bool = False
    default_probability: float = 0.0
    lower_bound_per_second: float = 0.0
    operations: dict[str, float] = field(default_factory=dict)


def parse_strategy(document: Any) -> RemoteStrategy:
    if not isinstance(document, dict):
        raise StrategyError(f"expected a JSON object, got {type(document).__name__}")
    raw_type = document.get("strategyType", 0)
    kind = _TYPES.get(raw_type) if isinstance(raw_type, int | str) else None
    if kind is None:
        raise StrategyError(f"unknown strategyType {raw_type!r}")
    probability = _probability(_section(document, "probabilisticSampling").get("samplingRate", 0.0), "samplingRate")
    per_second = _non_negative(
        _section(document, "rateLimitingSampling").get("maxTracesPerSecond", 0), "maxTracesPerSecond"
    )
    operation_sampling = document.get("operationSampling")
    if operation_sampling is None:
        return RemoteStrategy(kind=kind, probability=probability, max_traces_per_second=per_second)
    if not isinstance(operation_sampling, dict):
        raise StrategyError("operationSampling must be an object")
    operations: dict[str, float] = {}
    entries = operation_sampling.get("perOperationStrategies") or []
    if not isinstance(entries, list):
        raise StrategyError("perOperationStrategies must be a list")
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("operation"), str):
            raise StrategyError(f"each perOperationStrategies entry needs an operation name, got {entry!r}")
        rate = _section(entry, "probabilisticSampling").get("samplingRate", 0.0)
        operations[entry["operation"]] = _probability(rate, f"samplingRate of {entry['operation']!r}")
    return RemoteStrategy(
        kind=kind,
        probability=probability,
        max_traces_per_second=per_second,
        has_operations=True,
        default_probability=_probability(
            operation_sampling.get("defaultSamplingProbability", 0.0), "defaultSamplingProbability"
        ),
        lower_bound_per_second=_non_negative(
            operation_sampling.get("defaultLowerBoundTracesPerSecond", 0.0), "defaultLowerBoundTracesPerSecond"
        ),
        operations=operations,
    )


def _section(document: dict[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StrategyError(f"{key} must be an object, got {value!r}")
    return value


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise StrategyError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _probability(value: Any, name: str) -> float:
    number = _number(value, name)
    if not 0.0 <= number <= 1.0:
        raise StrategyError(f"{name} must be within [0, 1], got {number}")
    return number


def _non_negative(value: Any, name: str) -> float:
    number = _number(value, name)
    if number < 0:
        raise StrategyError(f"{name} must not be negative, got {number}")
    return number
