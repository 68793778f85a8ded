"""The post-aggregator: every collector's throughput in, per-operation probabilities out (on the leader).

Each calculation interval it reads the throughput all collectors stored for
the last interval (``calculation_delay`` behind now, so every client has
had time to poll the previous probabilities), keeps ``aggregation_buckets``
of those in memory (followers too, so that any of them can take over), and
if this collector leads, computes new probabilities and stores them.

Departures from Jaeger: a follower also keeps the probabilities the leader
last stored, so when it becomes leader it continues from them instead of from
the initial probability; an interval without any sampled trace of a known
operation counts as a rate of 0 (so its probability grows back); and the
request rate behind the sampled traces (sum of ``1/p``) is used where known,
see ``calculation.next_probability``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from backend.sampling.adaptive.calculation import float_equals, next_probability, truncate, weighted_qps
from backend.sampling.adaptive.options import AdaptiveOptions
from backend.storage.sampling_store import SamplingStore, ServiceOperationValues, Throughput

log = logging.getLogger(__name__)

SERVICE_CACHE_SIZE = 25  # calculations remembered for "was this operation adaptive before?"

ThroughputMap = dict[str, dict[str, Throughput]]


@dataclass(slots=True)
class Bucket:
    throughput: ThroughputMap
    interval_ns: int
    end_ns: int


def aggregate(throughput: list[Throughput]) -> ThroughputMap:
    """Sum the entries of several collectors for the same interval, per service and operation."""
    merged: ThroughputMap = {}
    for entry in throughput:
        operations = merged.setdefault(entry.service, {})
        current = operations.get(entry.operation)
        if current is None:
            operations[entry.operation] = Throughput(
                entry.service, entry.operation, entry.count, set(entry.probabilities), entry.requests
            )
        else:
            current.count += entry.count
            current.probabilities |= entry.probabilities
            current.requests += entry.requests
    return merged


class PostAggregator:
    def __init__(
        self,
        options: AdaptiveOptions,
        hostname: str,
        store: SamplingStore,
        is_leader: Callable[[], bool],
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.options = options
        self.hostname = hostname
        self._store = store
        self._is_leader = is_leader
        self._clock = clock
        self.probabilities: ServiceOperationValues = {}
        self.qps: ServiceOperationValues = {}
        self.buckets: list[Bucket] = []  # newest first
        self._service_cache: list[dict[tuple[str, str], tuple[float, bool]]] = []
        self._last_checked_ns = 0

    def start(self) -> None:
        """Load the buckets already in the store so that a restarted collector is ready at once."""
        self._last_checked_ns = self._clock() - self.options.calculation_delay
        end = self._last_checked_ns
        for _ in range(self.options.aggregation_buckets):
            begin = end - self.options.calculation_interval
            throughput = self._store.get_throughput(begin, end)
            if not throughput:
                break
            self.buckets.append(Bucket(aggregate(throughput), self.options.calculation_interval, end))
            end = begin

    def run_calculation(self) -> bool:
        """One interval's work; True when this collector led and stored new probabilities."""
        end = self._clock() - self.options.calculation_delay
        throughput = self._store.get_throughput(self._last_checked_ns, end)
        self.buckets.insert(0, Bucket(aggregate(throughput), end - self._last_checked_ns, end))
        del self.buckets[self.options.aggregation_buckets :]
        self._last_checked_ns = end
        if not self._is_leader():
            self.probabilities = self._store.get_latest_probabilities()
            return False
        self.probabilities, self.qps = self.calculate()
        self._store.insert_probabilities_and_qps(self.hostname, self.probabilities, self.qps, self._clock())
        return True

    def _rates_per_operation(self) -> dict[str, dict[str, tuple[list[float], list[float]]]]:
        """(sampled traces/s, requests/s) for the newest ``calculation_buckets`` buckets, newest first.

        An operation seen in any bucket kept in memory but absent from one of
        those counts 0 there (Jaeger skips such buckets, so a service whose
        probability fell too low to be sampled at all would keep its stale
        rate until a lower-bound trace came by).
        """
        seen = {
            (service, operation)
            for bucket in self.buckets
            for service, ops in bucket.throughput.items()
            for operation in ops
        }
        result: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
        for service, operation in seen:
            sampled: list[float] = []
            requests: list[float] = []
            for bucket in self.buckets[: self.options.calculation_buckets]:
                seconds = bucket.interval_ns / 1e9
                if seconds <= 0:
                    continue
                entry = bucket.throughput.get(service, {}).get(operation)
                sampled.append(entry.count / seconds if entry else 0.0)
                requests.append(entry.requests / seconds if entry else 0.0)
            result.setdefault(service, {})[operation] = (sampled, requests)
        return result

    def calculate(self) -> tuple[ServiceOperationValues, ServiceOperationValues]:
        self._service_cache.insert(0, {})
        del self._service_cache[SERVICE_CACHE_SIZE:]
        probabilities: ServiceOperationValues = {}
        qps: ServiceOperationValues = {}
        for service, operations in self._rates_per_operation().items():
            for operation, (sampled, requests) in operations.items():
                rate = weighted_qps(sampled)
                qps.setdefault(service, {})[operation] = rate
                probabilities.setdefault(service, {})[operation] = self._probability(
                    service, operation, rate, weighted_qps(requests)
                )
        return probabilities, qps

    def _probability(self, service: str, operation: str, rate: float, request_rate: float) -> float:
        options = self.options
        old = self.probabilities.get(service, {}).get(operation, options.initial_sampling_probability)
        adaptive = self._using_adaptive(service, operation, old)
        self._service_cache[0][(service, operation)] = (old, adaptive)
        return next_probability(
            rate,
            old,
            options.target_samples_per_second,
            options.delta_tolerance,
            options.min_sampling_probability,
            adaptive,
            request_rate,
        )

    def _using_adaptive(self, service: str, operation: str, probability: float) -> bool:
        """Does the service apply what we serve?  Judged from the probabilities its root spans reported."""
        if float_equals(probability, self.options.initial_sampling_probability):
            return True  # first sight: assume it does; the next round will tell
        latest = self.buckets[0].throughput if self.buckets else {}
        entry = latest.get(service, {}).get(operation)
        previous = self._service_cache[1].get((service, operation)) if len(self._service_cache) > 1 else None
        if entry is not None:
            # clients poll at their own pace: the probability served one round earlier still counts
            served = {truncate(probability)} | ({truncate(previous[0])} if previous is not None else set())
            return bool(served & entry.probabilities)
        if previous is not None:
            old, adaptive = previous
            return adaptive and not float_equals(old, self.options.initial_sampling_probability)
        return False
