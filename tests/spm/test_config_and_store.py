"""The processor's options are checked at start-up; the time-series store keeps only its retention."""

from __future__ import annotations

import pytest

from backend.core.binding import ConfigError
from backend.processors.spanmetrics.aggregator import Aggregator
from backend.processors.spanmetrics.processor import FACTORY
from backend.processors.spanmetrics.queries import quantile_ms
from backend.processors.spanmetrics.store import TimeSeriesStore
from backend.spans.model import SpanRecord

SECOND = 1_000_000_000


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({}, "storage"),
        ({"storage": "main", "resolution": "0s"}, "resolution"),
        ({"storage": "main", "resolution": "1m", "retention": "30s"}, "retention"),
        ({"storage": "main", "aggregation_cardinality_limit": 0}, "aggregation_cardinality_limit"),
        ({"storage": "main", "histogram": {"buckets": ["10ms", "5ms"]}}, "histogram.buckets"),
        ({"storage": "main", "histogram": {"buckets": []}}, "histogram.buckets"),
        ({"storage": "main", "histogram": {"buckets": ["fast"]}}, "histogram.buckets[0]"),
        ({"storage": "main", "colour": "blue"}, "colour"),
    ],
)
def test_bad_options_are_located_config_errors(raw: dict, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        FACTORY.options(raw, "processors.spanmetrics")
    assert f"processors.spanmetrics.{named}" in str(caught.value)


def test_histogram_buckets_are_durations() -> None:
    options = FACTORY.options({"storage": "main", "histogram": {"buckets": ["5ms", "1s"]}}, "p")
    assert options.histogram.buckets == [5_000_000, SECOND]


def span(duration_ns: int, name: str = "op") -> SpanRecord:
    return SpanRecord(b"t" * 16, b"s" * 8, b"", "svc", name, 2, 0, duration_ns, 0, b"", b"")


def test_buckets_older_than_the_retention_are_forgotten() -> None:
    store = TimeSeriesStore(10 * SECOND, 60 * SECOND, (1.0,))
    aggregator = Aggregator(store, 10)
    aggregator.add([span(1)], now_ns=100 * SECOND)
    aggregator.add([span(1)], now_ns=155 * SECOND)
    store.trim(165 * SECOND)
    assert len(store) == 2
    store.trim(170 * SECOND)  # the bucket [100s, 110s) ended 60 s ago
    assert len(store) == 1


def test_a_duration_on_a_bound_counts_in_that_bucket_as_prometheus_le_does() -> None:
    store = TimeSeriesStore(SECOND, 60 * SECOND, (2.0, 4.0))
    Aggregator(store, 10).add([span(2_000_000), span(2_000_001), span(9_000_000)], now_ns=0)
    (cell,) = store.take_dirty()[0].values()
    assert cell == [3, 13_000_001, [1, 1, 1]]


def test_quantile_interpolates_within_its_bucket_and_caps_at_the_top_bound() -> None:
    assert quantile_ms(0.5, [0, 4, 0], (2.0, 4.0)) == 3.0
    assert quantile_ms(0.99, [0, 0, 5], (2.0, 4.0)) == 4.0
    assert quantile_ms(0.5, [0, 0, 0], (2.0, 4.0)) is None
