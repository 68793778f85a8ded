"""Durations written as Go writes them (``300ms``, ``1.5s``, ``1h30m``): Jaeger's config and API use them."""

from __future__ import annotations

import re

_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration_ns(text: str) -> int:
    """Nanoseconds in ``text``; raises ``ValueError`` naming the text when it is not a duration."""
    source = text.strip()
    sign = 1
    if source[:1] in "+-" and source:
        sign = -1 if source[0] == "-" else 1
        source = source[1:]
    if source == "0":
        return 0
    total = 0.0
    position = 0
    for match in _PART.finditer(source):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_NS[match.group(2)]
        position = match.end()
    if not source or position != len(source):
        raise ValueError(f"{text!r} is not a duration (examples: 300ms, 1.5s, 1h30m)")
    return sign * round(total)


def format_duration(ns: int) -> str:
    """A short human form, for logs and error messages."""
    for unit, size in (("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000), ("ms", 1_000_000)):
        if ns >= size and ns % size == 0:
            return f"{ns // size}{unit}"
    if ns >= 1_000_000:
        return f"{ns / 1_000_000:g}ms"
    return f"{ns}ns"
