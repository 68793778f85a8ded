"""Simulated work: HotROD's latencies are normally distributed around a mean, never negative."""

from __future__ import annotations

import random
import time


def sample(mean_s: float, stddev_s: float, scale: float = 1.0) -> float:
    """A duration in seconds drawn from N(mean, stddev), scaled, clipped at zero."""
    return max(0.0, random.gauss(mean_s, stddev_s)) * scale


def sleep(mean_s: float, stddev_s: float, scale: float = 1.0) -> float:
    """Sleep for a sampled duration (releasing the GIL, as waiting on a remote system would); return it."""
    seconds = sample(mean_s, stddev_s, scale)
    if seconds > 0:
        time.sleep(seconds)
    return seconds
