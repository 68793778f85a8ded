"""The sampling strategy a service is told to use, in Jaeger's remote sampling JSON.

``SamplingStrategy`` mirrors ``api_v2.SamplingStrategyResponse``: a
probabilistic or rate limiting default, optionally with per-operation
probabilities (each guarded by a lower bound of traces per second on the
client).  Providers (file, adaptive) produce these; the HTTP and gRPC
endpoints render them.  The JSON is what Jaeger v2 answers on every path:
``strategyType`` as its enum name, and every field of ``operationSampling``
present (Jaeger marshals it with defaults emitted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

PROBABILISTIC = "PROBABILISTIC"
RATE_LIMITING = "RATE_LIMITING"
STRATEGY_TYPES = (PROBABILISTIC, RATE_LIMITING)  # in the order of api_v2's SamplingStrategyType enum


@dataclass(frozen=True, slots=True)
class OperationSampling:
    default_probability: float
    default_lower_bound_per_second: float = 0.0
    per_operation: dict[str, float] = field(default_factory=dict)
    default_upper_bound_per_second: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "defaultSamplingProbability": self.default_probability,
            "defaultLowerBoundTracesPerSecond": self.default_lower_bound_per_second,
            "perOperationStrategies": [
                {"operation": name, "probabilisticSampling": {"samplingRate": rate}}
                for name, rate in self.per_operation.items()
            ],
            "defaultUpperBoundTracesPerSecond": self.default_upper_bound_per_second,
        }


@dataclass(frozen=True, slots=True)
class SamplingStrategy:
    strategy_type: str = PROBABILISTIC
    probability: float | None = None
    max_traces_per_second: int | None = None
    operation_sampling: OperationSampling | None = None

    @classmethod
    def probabilistic(cls, probability: float) -> SamplingStrategy:
        return cls(PROBABILISTIC, probability=probability)

    @classmethod
    def rate_limiting(cls, max_traces_per_second: int) -> SamplingStrategy:
        return cls(RATE_LIMITING, max_traces_per_second=max_traces_per_second)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"strategyType": self.strategy_type}
        if self.probability is not None:
            document["probabilisticSampling"] = {"samplingRate": self.probability}
        if self.max_traces_per_second is not None:
            document["rateLimitingSampling"] = {"maxTracesPerSecond": self.max_traces_per_second}
        if self.operation_sampling is not None:
            document["operationSampling"] = self.operation_sampling.to_json()
        return document


class StrategyProvider(Protocol):
    """Where the endpoint gets a service's strategy from (a file, or adaptive sampling)."""

    def get_strategy(self, service: str) -> SamplingStrategy: ...

    def close(self) -> None: ...
