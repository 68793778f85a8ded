"""The processes a test run leaves behind: any still alive that the run started.

A process is the run's when it carries the run's mark in its environment (every process a test starts
inherits it, even one that daemonized itself and now has parent 1) or when it still descends from
the pytest process. A run must end with none: a left-over server is a bug that a user's crashed demo
would show too.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid

import psutil

MARK = "HOTROD_TEST_RUN"
GRACE_S = float(os.environ.get("TEST_LEFTOVER_GRACE_S", "10"))  # how long processes being stopped get to exit


def mark_this_run() -> None:
    """Give every process the tests start from now on this run's mark."""
    os.environ[MARK] = uuid.uuid4().hex


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _marked(process: psutil.Process, mark: str) -> bool:
    try:
        return process.environ().get(MARK) == mark
    except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
        return False


def left_behind() -> list[psutil.Process]:
    me = psutil.Process()
    mark = os.environ.get(MARK, "")
    found = {p.pid: p for p in me.children(recursive=True)}
    for process in psutil.process_iter():
        if process.pid != me.pid and process.pid not in found and _marked(process, mark):
            found[process.pid] = process
    return [p for p in found.values() if _alive(p)]


def describe(process: psutil.Process) -> str:
    try:
        return f"pid {process.pid} (parent {process.ppid()}): {' '.join(process.cmdline())[:200]}"
    except psutil.Error:
        return f"pid {process.pid} (gone)"


def wait_until_none_left(grace_s: float) -> list[psutil.Process]:
    """The run's processes still alive after ``grace_s`` (ones being stopped get that long to exit)."""
    deadline = time.monotonic() + grace_s
    while (left := left_behind()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def kill(processes: list[psutil.Process]) -> None:
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
