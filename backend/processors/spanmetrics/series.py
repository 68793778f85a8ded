"""What one metric series is: its key, its counts, and the histogram bounds they are kept in.

A series is one (service, span name, span kind, status code), as in the
OpenTelemetry spanmetrics connector.  Its counts are a plain list
``[calls, duration_sum_ns, bucket_counts]`` rather than an object: the
aggregator updates them for every span, where attribute access costs.
"""

from __future__ import annotations

from typing import Any

from backend.spans.model import KIND_NAMES

SeriesKey = tuple[str, str, int, int]  # service, span name, OTLP span kind, OTLP status code
Cell = list[Any]  # [calls: int, duration_sum_ns: int, bucket_counts: list[int]] (last bucket is +Inf)

#: The connector's default explicit buckets, in milliseconds.
DEFAULT_BUCKETS_MS = (2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10_000, 15_000)

#: Spans of new series beyond the cardinality limit are folded into this one series.
OVERFLOW_KEY: SeriesKey = ("", "", -1, -1)

_STATUS_NAMES = {0: "STATUS_CODE_UNSET", 1: "STATUS_CODE_OK", 2: "STATUS_CODE_ERROR"}


def new_cell(bucket_count: int) -> Cell:
    return [0, 0, [0] * bucket_count]


def merge_into(target: Cell, source: Cell) -> None:
    target[0] += source[0]
    target[1] += source[1]
    counts = target[2]
    for index, count in enumerate(source[2]):
        if count:
            counts[index] += count


def kind_label(kind: int) -> str:
    """The connector's ``span_kind`` value, e.g. ``SPAN_KIND_SERVER``."""
    return f"SPAN_KIND_{KIND_NAMES.get(kind, 'unspecified').upper()}"


def status_label(status: int) -> str:
    return _STATUS_NAMES.get(status, "STATUS_CODE_UNSET")
