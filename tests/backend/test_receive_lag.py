"""``ReceiveLag``: how far behind the asking thread's event loop, or the worker pool it belongs to, is."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from backend.core.lag import LaggingPool, ReceiveLag
from backend.storage.memory.store import MemoryOptions, MemoryStorage
from tests.support import run_on_own_loop

ROUND_S = 0.3
T = TypeVar("T")


def test_a_thread_without_an_event_loop_is_never_behind():
    assert ReceiveLag().behind() == 0.0


def test_the_first_request_on_a_quiet_loop_is_not_behind():
    async def ask() -> float:
        return ReceiveLag().behind()

    assert run_on_own_loop(ask()) == 0.0


def test_a_request_late_in_a_slow_round_has_waited_that_round_so_far():
    async def ask() -> float:
        lag = ReceiveLag()
        lag.behind()  # the round's first request
        time.sleep(ROUND_S)  # its decoding, or the GIL taken by a search
        return lag.behind()

    assert run_on_own_loop(ask()) >= ROUND_S


def test_the_round_after_a_slow_crowded_one_counts_it():
    async def ask() -> float:
        lag = ReceiveLag()
        lag.behind()
        lag.behind()  # a second request in the same round
        time.sleep(ROUND_S)
        await asyncio.sleep(0)  # the next round: the probe runs first
        return lag.behind()

    assert run_on_own_loop(ask()) >= ROUND_S


def test_a_lone_request_s_slow_round_is_not_held_against_the_next_request():
    async def ask() -> float:
        lag = ReceiveLag()
        lag.behind()  # one sender, one request at a time: its own decoding was slow
        time.sleep(ROUND_S)
        await asyncio.sleep(0)
        return lag.behind()

    assert run_on_own_loop(ask()) < ROUND_S / 3


def test_a_slow_round_is_forgotten_once_the_loop_has_waited_for_input_longer():
    async def ask() -> tuple[float, float]:
        lag = ReceiveLag()
        lag.behind()
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
    lag = ReceiveLag()

    async def slow() -> None:
        lag.behind()
        time.sleep(ROUND_S)

    async def quiet() -> float:
        return lag.behind()

    run_on_own_loop(slow())
    assert run_on_own_loop(quiet()) == 0.0


def run_in_pool(pool: LaggingPool, work: Callable[[], T]) -> T:
    return pool.submit(work).result(timeout=10)


def slow_request() -> None:
    time.sleep(ROUND_S)  # its decoding, slowed by searches taking the GIL


@pytest.fixture
def pool() -> Iterator[LaggingPool]:
    """Two workers: one for the requests measured, one for another sender's request held in flight."""
    started = LaggingPool(2, "test-lag")
    yield started
    started.shutdown()


@pytest.fixture
def another_sender(pool: LaggingPool) -> Iterator[None]:
    """A request in flight beside the measured ones, as under a flood."""
    release = threading.Event()
    held = pool.submit(release.wait, 30)
    yield
    release.set()
    held.result(timeout=10)


def test_a_request_late_in_its_own_slow_handling_has_taken_that_long_so_far(pool):
    lag = ReceiveLag()

    def request() -> float:
        slow_request()
        return lag.behind()

    assert run_in_pool(pool, request) >= ROUND_S


def test_the_next_request_counts_the_time_the_last_one_took_while_another_is_in_flight(pool, another_sender):
    lag = ReceiveLag()
    run_in_pool(pool, slow_request)
    assert run_in_pool(pool, lag.behind) >= ROUND_S


def test_a_sender_alone_is_not_held_to_its_previous_request_s_time(pool):
    lag = ReceiveLag()
    run_in_pool(pool, slow_request)
    assert run_in_pool(pool, lag.behind) < ROUND_S / 3


def test_a_slow_request_is_forgotten_once_the_pool_has_been_idle_longer(pool, another_sender):
    lag = ReceiveLag()
    run_in_pool(pool, slow_request)
    time.sleep(ROUND_S + 0.5)  # idle: nobody waited
    assert run_in_pool(pool, lag.behind) < ROUND_S / 3


def test_each_pool_is_measured_on_its_own(pool):
    lag = ReceiveLag()
    run_in_pool(pool, slow_request)
    with LaggingPool(1, "test-quiet") as quiet:
        assert run_in_pool(quiet, lag.behind) < ROUND_S / 3


def test_max_receive_lag_is_a_duration_of_250ms_by_default_and_0_turns_it_off():
    assert MemoryStorage(MemoryOptions()).max_receive_lag == 250_000_000
    with pytest.raises(ValueError, match="max_receive_lag"):
        MemoryOptions(max_receive_lag=-1)  # type: ignore[arg-type]
