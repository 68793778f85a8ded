"""The post-aggregator over a real store and a hand-driven clock (interval 10 s, no delay)."""

from __future__ import annotations

import pytest

from backend.core.binding import Duration
from backend.sampling.adaptive.options import AdaptiveOptions
from backend.sampling.adaptive.post_aggregator import PostAggregator
from backend.storage.memory.sampling import MemorySamplingStore
from backend.storage.sampling_store import Throughput

S = 1_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = 1_000 * S

    def __call__(self) -> int:
        return self.now


def make(store, clock, leader=True, **overrides) -> PostAggregator:
    options = AdaptiveOptions(calculation_interval=Duration(10 * S), calculation_delay=Duration(0), **overrides)
    post = PostAggregator(options, "host", store, lambda: leader, clock)
    post.start()
    return post


def test_throughput_of_every_collector_is_summed_into_one_rate() -> None:
    store, clock = MemorySamplingStore(), Clock()
    post = make(store, clock, initial_sampling_probability=0.5)
    clock.now += 10 * S
    store.insert_throughput([Throughput("svc", "op", 60, {"0.500000"})], clock.now - 5 * S)  # collector A
    store.insert_throughput([Throughput("svc", "op", 40, {"0.500000"})], clock.now - 4 * S)  # collector B
    assert post.run_calculation()
    assert post.qps == {"svc": {"op": pytest.approx(10.0)}}  # 100 sampled traces in 10 s
    assert post.probabilities == {"svc": {"op": pytest.approx(0.05)}}  # 0.5 × 1/10
    assert store.get_latest_probabilities() == post.probabilities


def test_successive_rounds_converge_with_the_increase_cap() -> None:
    store, clock = MemorySamplingStore(), Clock()
    post = make(store, clock, initial_sampling_probability=0.01)
    rounds = []
    for _ in range(3):
        clock.now += 10 * S
        p = post.probabilities.get("svc", {}).get("op", 0.01)
        store.insert_throughput([Throughput("svc", "op", 1, {f"{p:.6f}"})], clock.now - S)
        post.run_calculation()
        rounds.append(post.probabilities["svc"]["op"])
    # one sampled trace per 10 s round is 0.1/s, a tenth of the target: each round may only double
    assert rounds == pytest.approx([0.02, 0.04, 0.08])


def test_a_follower_computes_nothing_but_keeps_the_leaders_probabilities() -> None:
    store, clock = MemorySamplingStore(), Clock()
    store.insert_probabilities_and_qps("leader", {"svc": {"op": 0.3}}, {}, clock.now)
    follower = make(store, clock, leader=False)
    clock.now += 10 * S
    store.insert_throughput([Throughput("svc", "op", 100, {"0.300000"})], clock.now - S)
    assert not follower.run_calculation()
    assert follower.probabilities == {"svc": {"op": 0.3}}
    assert len(store._probabilities) == 1


def test_a_service_reporting_another_probability_keeps_its_own() -> None:
    store, clock = MemorySamplingStore(), Clock()
    post = make(store, clock, initial_sampling_probability=0.5)
    clock.now += 10 * S
    store.insert_throughput([Throughput("svc", "op", 100, {"0.500000"})], clock.now - S)
    post.run_calculation()
    assert post.probabilities["svc"]["op"] == pytest.approx(0.05)
    clock.now += 10 * S
    store.insert_throughput([Throughput("svc", "op", 100, {"1.000000"})], clock.now - S)  # not what we served
    post.run_calculation()
    assert post.probabilities["svc"]["op"] == pytest.approx(0.05)


def test_a_restarted_collector_reloads_recent_buckets() -> None:
    store, clock = MemorySamplingStore(), Clock()
    store.insert_throughput([Throughput("svc", "op", 30, {"0.001000"})], clock.now - 5 * S)
    post = make(store, clock)
    assert len(post.buckets) == 1
    assert post.buckets[0].throughput["svc"]["op"].count == 30


def test_an_interval_without_sampled_traces_doubles_the_probability() -> None:
    store, clock = MemorySamplingStore(), Clock()
    post = make(store, clock, initial_sampling_probability=0.5)
    clock.now += 10 * S
    store.insert_throughput([Throughput("svc", "op", 100, {"0.500000"}, requests=200.0)], clock.now - S)
    post.run_calculation()
    assert post.probabilities["svc"]["op"] == pytest.approx(0.05)  # 20 requests/s, target 1/s
    clock.now += 10 * S
    store.insert_throughput([Throughput("svc", "op", 10, {"0.050000"}, requests=200.0)], clock.now - S)
    post.run_calculation()  # the service follows: 1 sampled trace/s, on target
    assert post.probabilities["svc"]["op"] == pytest.approx(0.05)
    clock.now += 10 * S
    post.run_calculation()  # traffic stopped: nothing sampled at all in this interval
    assert post.probabilities["svc"]["op"] == pytest.approx(0.1)


def test_clients_still_on_the_previously_served_probability_count_as_following() -> None:
    store, clock = MemorySamplingStore(), Clock()
    post = make(store, clock, initial_sampling_probability=0.5)
    clock.now += 10 * S
    store.insert_throughput([Throughput("svc", "op", 100, {"0.500000"}, requests=200.0)], clock.now - S)
    post.run_calculation()  # now serving 0.05
    clock.now += 10 * S
    # the clients have not polled yet: still sampling at 0.5, at 40 requests/s now
    store.insert_throughput([Throughput("svc", "op", 200, {"0.500000"}, requests=400.0)], clock.now - S)
    post.run_calculation()
    assert post.probabilities["svc"]["op"] == pytest.approx(0.025)  # 40 requests/s × 0.025 = the target
