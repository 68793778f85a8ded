"""The search page's plot: one dot per trace, start time across, duration up.

Geometry is computed here and drawn by the template as SVG, so the plot
needs no script and every label goes through the template's escaping.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from backend.query.ui.formatting import duration
from backend.query.ui.summary import TraceSummary

WIDTH = 900
HEIGHT = 180
LEFT = 70
BOTTOM = 24
TOP = 10


@dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float
    r: float
    summary: TraceSummary


@dataclass(frozen=True, slots=True)
class Plot:
    width: int
    height: int
    dots: list[Dot]
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]


def plot(summaries: list[TraceSummary]) -> Plot:
    if not summaries:
        return Plot(WIDTH, HEIGHT, [], [], [])
    first = min(s.start_ns for s in summaries)
    last = max(s.start_ns for s in summaries)
    slowest = max(max(s.duration_ns for s in summaries), 1)
    span = max(last - first, 1)
    inner_w, inner_h = WIDTH - LEFT - 20, HEIGHT - TOP - BOTTOM

    def x_of(start: int) -> float:
        return LEFT + (inner_w / 2 if last == first else (start - first) / span * inner_w)

    def y_of(duration: int) -> float:
        return TOP + inner_h - duration / slowest * inner_h

    dots = [
        Dot(round(x_of(s.start_ns), 1), round(y_of(s.duration_ns), 1), min(3 + s.span_count**0.5, 12), s)
        for s in summaries
    ]
    y_ticks = [(round(y_of(slowest * i // 4), 1), duration(slowest * i // 4)) for i in range(5)]
    x_ticks = [(round(x_of(first + span * i // 4), 1), _clock(first + span * i // 4)) for i in range(5)]
    return Plot(WIDTH, HEIGHT, dots, y_ticks, x_ticks if last != first else x_ticks[2:3])


def _clock(ns: int) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ns / 1e9))
