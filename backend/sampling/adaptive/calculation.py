"""The arithmetic of adaptive sampling, as Jaeger does it, kept pure so it can be checked by hand.

New probability = old × target / observed, except that an increase is capped
(at +100 % per calculation, Jaeger's setting of its capped calculator) to avoid
overshooting; an observed rate within the tolerance of the target leaves the
probability alone; the result is clamped to ``[min_probability, 1]``.
Observed rates over several buckets are averaged with weights ``i^4``,
newest heaviest.
"""

from __future__ import annotations

from functools import cache

PERCENTAGE_INCREASE_CAP = 1.0
_EPSILON = 1e-10


def float_equals(a: float, b: float) -> bool:
    return abs(a - b) < _EPSILON


def truncate(probability: float) -> str:
    """The six-decimal text under which a probability is remembered (Jaeger's ``TruncateFloat``)."""
    return f"{probability:.6f}"


def capped_increase(target_qps: float, current_qps: float, old_probability: float) -> float:
    factor = target_qps / current_qps
    new_probability = old_probability * factor
    if factor > 1.0 and (new_probability - old_probability) / old_probability > PERCENTAGE_INCREASE_CAP:
        return old_probability * (1.0 + PERCENTAGE_INCREASE_CAP)
    return new_probability


def within_tolerance(actual: float, expected: float, tolerance: float) -> bool:
    return abs(actual - expected) / expected < tolerance


@cache
def weights(length: int) -> tuple[float, ...]:
    """Normalised ``i^4`` for ``i = length … 1``: the head (newest bucket) weighs most."""
    raw = [float(i**4) for i in range(length, 0, -1)]
    total = sum(raw)
    return tuple(w / total for w in raw)


def weighted_qps(qps_newest_first: list[float]) -> float:
    if not qps_newest_first:
        return 0.0
    return sum(q * w for q, w in zip(qps_newest_first, weights(len(qps_newest_first)), strict=True))


def next_probability(
    qps: float,
    old_probability: float,
    target: float,
    tolerance: float,
    min_probability: float,
    using_adaptive: bool = True,
) -> float:
    """The probability to serve next, given the sampled-trace rate observed at ``old_probability``."""
    if within_tolerance(qps, target, tolerance) or not using_adaptive:
        return old_probability
    # nothing seen: double the probability, so that something gets sampled
    new_probability = old_probability * 2.0 if float_equals(qps, 0.0) else capped_increase(target, qps, old_probability)
    return min(1.0, max(min_probability, new_probability))
