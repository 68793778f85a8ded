"""Load shapes: the user count each shape asks for over a run."""

from __future__ import annotations

from loadgen.shapes.curves import ramp, spike, steady, step

PEAK, PERIOD = 20, 100.0


def test_steady_holds_the_peak_throughout():
    assert {steady(t, PEAK, PERIOD) for t in range(0, 100, 5)} == {PEAK}


def test_ramp_climbs_over_the_first_half_then_holds():
    counts = [ramp(t, PEAK, PERIOD) for t in range(0, 100, 5)]
    assert counts[0] == 1
    assert counts == sorted(counts)
    assert ramp(25, PEAK, PERIOD) == PEAK // 2
    assert {ramp(t, PEAK, PERIOD) for t in range(50, 100, 5)} == {PEAK}


def test_spike_jumps_to_the_peak_in_the_middle_fifth_only():
    assert spike(10, PEAK, PERIOD) == spike(90, PEAK, PERIOD) == PEAK // 4
    assert spike(40, PEAK, PERIOD) == spike(59, PEAK, PERIOD) == PEAK
    assert spike(60, PEAK, PERIOD) == PEAK // 4


def test_step_rises_in_equal_stairs_to_the_peak():
    assert [step(t, PEAK, PERIOD) for t in (0, 30, 60, 90)] == [5, 10, 15, 20]


def test_every_shape_keeps_at_least_one_user_and_never_exceeds_the_peak():
    for shape in (steady, ramp, spike, step):
        counts = [shape(t / 2, 3, 10.0) for t in range(40)]
        assert min(counts) >= 1 and max(counts) <= 3
