"""Work a component repeats on a thread of its own (a purge, a flush, a reload, a lease renewal) until it stops.

Every such loop wants the same things: the first wait before the first run, a stop that
wakes the wait at once and then waits for a run in progress, and a run that fails being
logged without ending the loop (a thread that dies quietly leaves its work undone for good).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


class Periodic:
    def __init__(
        self, name: str, interval_s: float | Callable[[], float], run: Callable[[], object], log: logging.Logger
    ) -> None:
        """``run()`` every ``interval_s`` seconds (a callable: asked before each wait) on a thread called ``name``."""
        self._name = name
        self._interval = interval_s if callable(interval_s) else lambda: interval_s
        self._run = run
        self._log = log
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval()):
            try:
                self._run()
            except Exception:
                self._log.exception("%s failed; it runs again after the next interval", self._name)

    def stop(self, timeout: float | None = 30.0) -> bool:
        """Wake the wait and end the loop, after the run in progress if there is one; True when it was running."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return False
        thread.join(timeout)
        return True
