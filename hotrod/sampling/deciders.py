"""The decisions a Jaeger remote strategy asks for: probabilistic, rate limiting, per operation.

Each decider answers ``decide(trace_id, operation)`` with a ``Verdict`` that
also says *why* (``sampler.type`` / ``sampler.param`` as Jaeger's clients tag
root spans, and the OTel threshold for probabilistic decisions): the
collector's adaptive sampler counts only probabilistic decisions, weighted
by their probability, so it must be told which ones those were.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from hotrod.sampling.rate_limiter import RateLimiter
from hotrod.sampling.strategy import RemoteStrategy
from hotrod.sampling.threshold import is_kept, rejection_threshold

PROBABILISTIC = "probabilistic"
RATE_LIMITING = "ratelimiting"
LOWER_BOUND = "lowerbound"
DEFAULT_MAX_OPERATIONS = 2000


@dataclass(frozen=True, slots=True)
class Verdict:
    sampled: bool
    sampler_type: str
    param: float
    threshold: int | None = None  # only for probabilistic decisions


class Probabilistic:
    def __init__(self, rate: float) -> None:
        self.rate = min(1.0, max(0.0, rate))
        self._threshold = rejection_threshold(self.rate)

    def decide(self, trace_id: int, operation: str) -> Verdict:
        if self.rate <= 0.0:
            return Verdict(False, PROBABILISTIC, 0.0)
        return Verdict(is_kept(trace_id, self._threshold), PROBABILISTIC, self.rate, self._threshold)


def _limiter_for(per_second: float) -> RateLimiter:
    return RateLimiter(per_second, max(per_second, 1.0))


class RateLimiting:
    def __init__(self, max_traces_per_second: float) -> None:
        self.max_traces_per_second = max_traces_per_second
        self._limiter = _limiter_for(max_traces_per_second)

    def update(self, max_traces_per_second: float) -> None:
        if max_traces_per_second != self.max_traces_per_second:
            self._limiter.update(max_traces_per_second, max(max_traces_per_second, 1.0))
            self.max_traces_per_second = max_traces_per_second

    def decide(self, trace_id: int, operation: str) -> Verdict:
        return Verdict(self._limiter.try_spend(), RATE_LIMITING, self.max_traces_per_second)


class GuaranteedThroughput:
    """A probability with a floor: at least ``lower_bound`` traces per second are kept.

    A probabilistically kept trace also spends a lower-bound credit, so the
    floor only adds traces when the probability alone falls short of it.
    """

    def __init__(self, rate: float, lower_bound: float) -> None:
        self.probabilistic = Probabilistic(rate)
        self.lower_bound = lower_bound
        self._limiter = _limiter_for(lower_bound)

    def update(self, rate: float, lower_bound: float) -> None:
        if rate != self.probabilistic.rate:
            self.probabilistic = Probabilistic(rate)
        if lower_bound != self.lower_bound:
            self._limiter.update(lower_bound, max(lower_bound, 1.0))
            self.lower_bound = lower_bound

    def decide(self, trace_id: int, operation: str) -> Verdict:
        verdict = self.probabilistic.decide(trace_id, operation)
        if verdict.sampled:
            self._limiter.try_spend()
            return verdict
        if self._limiter.try_spend():
            # tagged with the probability, as Jaeger's clients do: it tells the collector which one is in use
            return Verdict(True, LOWER_BOUND, self.probabilistic.rate)
        return verdict


class PerOperation:
    """One ``GuaranteedThroughput`` per span name; names beyond ``max_operations`` share the default."""

    def __init__(self, strategy: RemoteStrategy, max_operations: int = DEFAULT_MAX_OPERATIONS) -> None:
        self._lock = threading.Lock()
        self._max_operations = max_operations
        self._samplers: dict[str, GuaranteedThroughput] = {}
        self.default = Probabilistic(strategy.default_probability)
        self.lower_bound = strategy.lower_bound_per_second
        self.update(strategy)

    def update(self, strategy: RemoteStrategy) -> None:
        """Adopt new probabilities, keeping each operation's earned lower-bound credit.

        An operation the strategy does not list yet keeps its sampler, at the new
        default probability: replacing it would refill its lower-bound credit at
        every poll and keep one trace per poll whatever the probability.
        """
        with self._lock:
            lower_bound = strategy.lower_bound_per_second
            samplers: dict[str, GuaranteedThroughput] = {}
            for operation, sampler in self._samplers.items():
                if operation not in strategy.operations:
                    sampler.update(strategy.default_probability, lower_bound)
                    samplers[operation] = sampler
            for operation, rate in strategy.operations.items():
                known = self._samplers.get(operation)
                if known is None:
                    known = GuaranteedThroughput(rate, lower_bound)
                else:
                    known.update(rate, lower_bound)
                samplers[operation] = known
            self._samplers = samplers
            self.lower_bound = lower_bound
            if strategy.default_probability != self.default.rate:
                self.default = Probabilistic(strategy.default_probability)

    def rate_for(self, operation: str) -> float:
        sampler = self._samplers.get(operation)
        return sampler.probabilistic.rate if sampler is not None else self.default.rate

    def decide(self, trace_id: int, operation: str) -> Verdict:
        sampler = self._samplers.get(operation)
        if sampler is None:
            with self._lock:
                sampler = self._samplers.get(operation)
                if sampler is None:
                    if len(self._samplers) >= self._max_operations:
                        return self.default.decide(trace_id, operation)
                    sampler = GuaranteedThroughput(self.default.rate, self.lower_bound)
                    self._samplers[operation] = sampler
        return sampler.decide(trace_id, operation)


Decider = Probabilistic | RateLimiting | PerOperation


def adopt(current: Decider, strategy: RemoteStrategy, max_operations: int = DEFAULT_MAX_OPERATIONS) -> Decider:
    """The decider for ``strategy``, reusing ``current`` when it is of the same kind (keeps limiter state)."""
    if strategy.has_operations:
        if isinstance(current, PerOperation):
            current.update(strategy)
            return current
        return PerOperation(strategy, max_operations)
    if strategy.kind == RATE_LIMITING:
        if isinstance(current, RateLimiting):
            current.update(strategy.max_traces_per_second)
            return current
        return RateLimiting(strategy.max_traces_per_second)
    if isinstance(current, Probabilistic) and current.rate == strategy.probability:
        return current
    return Probabilistic(strategy.probability)
