"""The aggregator: counts root spans per service and operation and flushes the counts every interval.

Only probabilistically sampled roots are counted, each with the ``1/p``
requests it stands for at the probability ``p`` it was sampled at.
Lower-bound and rate-limited roots are not counted, but they still register
the operation (with a count of 0) so that it gets a probability of its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from backend.core.periodic import Periodic
from backend.sampling.adaptive.calculation import truncate
from backend.sampling.adaptive.post_aggregator import PostAggregator
from backend.sampling.adaptive.root_spans import PROBABILISTIC, sampler_info
from backend.spans.model import SpanBatch
from backend.storage.sampling_store import SamplingStore, Throughput

log = logging.getLogger(__name__)

MAX_PROBABILITIES = 10  # distinct probabilities remembered per operation and interval


class Aggregator:
    def __init__(
        self,
        store: SamplingStore,
        post_aggregator: PostAggregator,
        served_probability: Callable[[str, str], float],
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self._store = store
        self._post_aggregator = post_aggregator
        self._served_probability = served_probability
        self._clock = clock
        self._lock = threading.Lock()
        self._current: dict[tuple[str, str], Throughput] = {}
        interval_s = post_aggregator.options.calculation_interval / 1e9
        self._flushes = Periodic("adaptive-aggregator", interval_s, self.flush, log)
        self.on_calculated: Callable[[], None] | None = None  # called after this collector stored probabilities

    def record(self, service: str, operation: str, sampler_type: str, probability: float) -> None:
        with self._lock:
            entry = self._current.get((service, operation))
            if entry is None:
                entry = self._current[(service, operation)] = Throughput(service, operation)
            if len(entry.probabilities) < MAX_PROBABILITIES:
                entry.probabilities.add(truncate(probability))
            if sampler_type == PROBABILISTIC:
                entry.count += 1
                if probability > 0:
                    entry.requests += 1.0 / probability

    def handle_batch(self, batch: SpanBatch) -> None:
        for span in batch.spans:
            if span.parent_span_id or not span.service or not span.name:
                continue
            info = sampler_info(span.payload)
            if info is None:
                self.record(span.service, span.name, PROBABILISTIC, self._served_probability(span.service, span.name))
            else:
                self.record(span.service, span.name, info.sampler_type, info.param)

    def flush(self) -> None:
        """Store this interval's counts, then let the post-aggregator run (and compute, if leading)."""
        with self._lock:
            counted, self._current = list(self._current.values()), {}
        self._store.insert_throughput(counted, self._clock())
        if self._post_aggregator.run_calculation() and self.on_calculated is not None:
            self.on_calculated()

    def start(self) -> None:
        self._post_aggregator.start()
        self._flushes.start()

    def close(self) -> None:
        self._flushes.stop()
