"""The arithmetic of adaptive sampling, as Jaeger does it, kept pure so it can be checked by hand.

New probability = old × target / observed, except that an increase is capped
(at +100 % per calculation, Jaeger's setting of its capped calculator) to avoid
overshooting; an observed rate within the tolerance of the target leaves the
probability alone; the result is clamped to ``[min_probability, 1]``.
Observed rates over several buckets are averaged with weights ``i^4``,
newest heaviest.  Where the request rate behind the sampled traces is known,
the "observed" rate is the one expected at the current probability (see
``next_probability``).
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


def capped(proposed: float, old_probability: float) -> float:
    if proposed > old_probability and (proposed - old_probability) / old_probability > PERCENTAGE_INCREASE_CAP:
        return old_probability * (1.0 + PERCENTAGE_INCREASE_CAP)
    return proposed


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
    request_rate: float = 0.0,
) -> float:
    """The probability to serve next, after ``old_probability``.

    ``qps`` is the rate of sampled traces observed.  Jaeger assumes they were
    sampled at ``old_probability``; when the ``request_rate`` they stand for
    is known (the sum of ``1/p`` per second) the rate expected at
    ``old_probability`` is computed from it instead, which stays right while
    clients are still applying a previous probability.
    """
    if not using_adaptive:
        return old_probability
    expected = request_rate * old_probability if request_rate > 0 else qps
    if within_tolerance(expected, target, tolerance):
        return old_probability
    if float_equals(expected, 0.0):
        new_probability = old_probability * 2.0  # nothing seen: double, so that something gets sampled
    else:
        new_probability = capped(old_probability * target / expected, old_probability)
    return min(1.0, max(min_probability, new_probability))
