"""Template filters: durations and times as people read them on trace pages."""

from __future__ import annotations

import time


def duration(ns: int) -> str:
    """Three significant digits in the largest fitting unit: ``312ms``, ``1.25s``, ``850µs``."""
    for unit, size in (("s", 1_000_000_000), ("ms", 1_000_000), ("µs", 1_000)):
        if ns >= size:
            value = ns / size
            return f"{value:.3g}{unit}" if value < 1000 else f"{value:.0f}{unit}"
    return f"{ns}ns"


def timestamp(ns: int) -> str:
    """Local date and time with milliseconds."""
    seconds, rest = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds)) + f".{rest // 1_000_000:03d}"


FILTERS = {"duration": duration, "timestamp": timestamp}
