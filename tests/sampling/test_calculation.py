"""Adaptive sampling arithmetic against cases worked out by hand (target 1 trace/s, tolerance 0.3)."""

from __future__ import annotations

import pytest

from backend.sampling.adaptive.calculation import next_probability, weighted_qps, weights


def step(qps: float, old: float, using_adaptive: bool = True) -> float:
    return next_probability(qps, old, target=1.0, tolerance=0.3, min_probability=1e-5, using_adaptive=using_adaptive)


def test_an_increase_is_capped_at_double() -> None:
    # 0.1 sampled traces/s at p=0.1 asks for p=1.0 (+900 %); the cap allows +100 %.
    assert step(qps=0.1, old=0.1) == pytest.approx(0.2)


def test_an_increase_below_the_cap_goes_all_the_way() -> None:
    # 0.6/s at p=0.3: p × 1/0.6 = 0.5, a +67 % increase, under the cap.
    assert step(qps=0.6, old=0.3) == pytest.approx(0.5)


def test_a_decrease_jumps_straight_to_the_target() -> None:
    assert step(qps=10.0, old=0.5) == pytest.approx(0.05)


@pytest.mark.parametrize("qps", [0.71, 1.0, 1.29])
def test_within_tolerance_nothing_changes(qps: float) -> None:
    assert step(qps=qps, old=0.4) == 0.4


def test_the_tolerance_bound_itself_is_outside() -> None:
    assert step(qps=1.3, old=0.4) == pytest.approx(0.4 / 1.3)


def test_never_below_the_minimum_probability() -> None:
    assert step(qps=1000.0, old=0.001) == 1e-5


def test_never_above_one() -> None:
    assert step(qps=0.5, old=0.8) == 1.0


def test_no_traffic_doubles_the_probability() -> None:
    assert step(qps=0.0, old=0.01) == pytest.approx(0.02)


def test_a_service_not_following_the_served_probability_is_left_alone() -> None:
    assert step(qps=10.0, old=0.5, using_adaptive=False) == 0.5


def test_weights_favour_the_newest_bucket_as_i_to_the_fourth() -> None:
    assert weights(2) == pytest.approx((16 / 17, 1 / 17))
    assert weighted_qps([1.0, 18.0]) == pytest.approx(2.0)
    assert weighted_qps([]) == 0.0


def test_the_request_rate_corrects_for_clients_still_on_an_older_probability() -> None:
    # We serve 0.05 now, but clients sampled most of the window at 0.5: 40 sampled/s from 100 requests/s.
    # Jaeger's rule would take 0.05 × 1/40 = 0.00125; at 0.05 the 100 requests/s give 5/s, so 0.05 × 1/5.
    assert step_with_requests(qps=40.0, old=0.05, request_rate=100.0) == pytest.approx(0.01)


def test_the_request_rate_decides_the_tolerance_too() -> None:
    # 3 sampled/s were seen, but at today's 0.01 the 100 requests/s give 1/s: on target, no change.
    assert step_with_requests(qps=3.0, old=0.01, request_rate=100.0) == 0.01


def step_with_requests(qps: float, old: float, request_rate: float) -> float:
    return next_probability(qps, old, target=1.0, tolerance=0.3, min_probability=1e-5, request_rate=request_rate)
