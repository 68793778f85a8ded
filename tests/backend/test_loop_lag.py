"""``LoopLag``: how long a request arriving now on the asking thread's event loop waits before it is read."""

from __future__ import annotations

import asyncio
import time

import pytest

from backend.exporters.storage.lag import LoopLag
from backend.storage.memory.store import MemoryOptions, MemoryStorage
from tests.support import run_on_own_loop

ROUND_S = 0.3


def test_a_thread_without_an_event_loop_is_never_behind():
    assert LoopLag().behind() == 0.0


def test_the_first_request_on_a_quiet_loop_is_not_behind():
    async def ask() -> float:
        return LoopLag().behind()

    assert run_on_own_loop(ask()) == 0.0


def test_a_request_late_in_a_slow_round_has_waited_that_round_so_far():
    async def ask() -> float:
        lag = LoopLag()
        lag.behind()  # the round's first request
        time.sleep(ROUND_S)  # its decoding, or the GIL taken by a search
        return lag.behind()

    assert run_on_own_loop(ask()) >= ROUND_S


def test_the_round_after_a_slow_one_counts_it():
    async def ask() -> float:
        lag = LoopLag()
        lag.behind()
        time.sleep(ROUND_S)
        await asyncio.sleep(0)  # the next round: the probe runs first
        return lag.behind()

    assert run_on_own_loop(ask()) >= ROUND_S


def test_a_slow_round_is_forgotten_once_the_loop_has_waited_for_input_longer():
    async def ask() -> tuple[float, float]:
        lag = LoopLag()
        lag.behind()
        time.sleep(ROUND_S)
        await asyncio.sleep(0)
        measured = lag.behind()
        await asyncio.sleep(0)  # that probe runs: a quick round
        await asyncio.sleep(measured + 0.5)  # idle, longer than the slow round was
        return measured, lag.behind()

    measured, after_idle = run_on_own_loop(ask())
    assert measured >= ROUND_S
    assert after_idle == 0.0


def test_each_loop_is_measured_on_its_own():
    lag = LoopLag()

    async def slow() -> None:
        lag.behind()
        time.sleep(ROUND_S)

    async def quiet() -> float:
        return lag.behind()

    run_on_own_loop(slow())
    assert run_on_own_loop(quiet()) == 0.0


def test_max_receive_lag_is_a_duration_of_250ms_by_default_and_0_turns_it_off():
    assert MemoryStorage(MemoryOptions()).max_receive_lag == 250_000_000
    with pytest.raises(ValueError, match="max_receive_lag"):
        MemoryOptions(max_receive_lag=-1)  # type: ignore[arg-type]
