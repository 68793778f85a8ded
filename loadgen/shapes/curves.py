"""Load shapes: steady, ramp, spike and step, as plain functions of time.

They are kept free of Locust (``loadgen.shapes.locust_shape`` is the Locust glue that picks one by
``--shape``) so they can be read and tested without Locust patching the process.  Each maps
(seconds elapsed, peak users, period) to the number of users that should run now; a period is
the run time, or one repetition of the pattern when the run has no end.
"""

from __future__ import annotations

import math
from collections.abc import Callable

ShapeFunction = Callable[[float, int, float], int]  # (elapsed s, peak users, period s) → users now


def steady(elapsed: float, peak: int, period: float) -> int:
    return peak


def ramp(elapsed: float, peak: int, period: float) -> int:
    """From one user up to ``peak`` over the first half of the period, then hold."""
    share = min(1.0, elapsed / (period / 2))
    return max(1, math.ceil(peak * share))


def spike(elapsed: float, peak: int, period: float) -> int:
    """A quarter of ``peak`` as the baseline, ``peak`` during the middle fifth of the period."""
    position = (elapsed % period) / period
    return peak if 0.4 <= position < 0.6 else max(1, peak // 4)


def step(elapsed: float, peak: int, period: float, steps: int = 4) -> int:
    """``peak`` reached in ``steps`` equal stairs, one per equal slice of the period."""
    stair = min(steps - 1, int((elapsed % period) / period * steps))
    return max(1, math.ceil(peak * (stair + 1) / steps))


SHAPES: dict[str, ShapeFunction] = {"steady": steady, "ramp": ramp, "spike": spike, "step": step}
