"""core/periodic.py and core/per_object.py: the loop keeps running past a failed run, and one companion per object."""

from __future__ import annotations

import gc
import logging
import threading

import pytest

from backend.core.per_object import PerObject
from backend.core.periodic import Periodic
from tests.support import wait_for


def test_a_run_that_raises_is_logged_and_the_next_run_still_comes(caplog: pytest.LogCaptureFixture):
    runs: list[int] = []

    def run() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("the first run fails")

    loop = Periodic("test-loop", 0.01, run, logging.getLogger("test.periodic"))
    loop.start()
    wait_for(lambda: len(runs) >= 3, timeout=10, what="runs after the failed one")
    assert loop.stop() is True

    assert "test-loop failed" in caplog.text and "the first run fails" in caplog.text


def test_stop_wakes_the_wait_at_once_and_reports_whether_it_ran():
    ran = threading.Event()
    never_started = Periodic("test-never", 3600.0, ran.set, logging.getLogger("test.periodic"))
    assert never_started.stop() is False
    loop = Periodic("test-long-wait", 3600.0, ran.set, logging.getLogger("test.periodic"))
    loop.start()
    thread = next(t for t in threading.enumerate() if t.name == "test-long-wait")

    assert loop.stop(timeout=10) is True
    assert not thread.is_alive() and not ran.is_set()


def test_an_interval_callable_is_asked_before_each_wait():
    asked: list[float] = []
    done = threading.Event()

    def interval() -> float:
        asked.append(0.01)
        if len(asked) >= 3:
            done.set()
        return 0.01

    loop = Periodic("test-interval", interval, lambda: None, logging.getLogger("test.periodic"))
    loop.start()
    wait_for(done.is_set, timeout=10, what="the interval asked three times")
    loop.stop()


class _Key:
    """Weakly referenceable, as storages and registries are."""


def test_each_object_gets_one_companion_made_on_first_use_and_dropped_with_it():
    made: list[int] = []

    def make(key: _Key) -> object:
        made.append(id(key))
        return object()

    companion = PerObject(make)
    first, second = _Key(), _Key()

    assert companion(first) is companion(first)
    assert companion(second) is not companion(first)
    assert len(made) == 2
    del first
    gc.collect()
    assert len(companion._made) == 1  # noqa: SLF001 - the weak keying is the promise under test
