"""The thread that collects the answers that wait (``httpd.wsgi.BLOCKING``) and hands them back to the loop in rounds.

An answer that waits is OTLP ingest's wait for its persistent queue's disk
sync (group commit, backend/extensions/file_storage/segments.py).  Requests
arriving together wait for the same sync, so one thread takes everything
pending, in arrival order: the first wait of a round leads the sync that
covers the others, which then return at once; the round's answers go back to
the event loop in one call.  A thread per waiting request, as before, cost
each request a pool submit, a thread wake-up and its own hand-back under the
GIL (about a tenth of the ingest process's GIL time at 60 k spans/s); a round
costs that once.  Requests that arrive during a round's sync make up the
next round, as they would have waited for the next sync anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

from httpd.wsgi import Answer

Work = Callable[[], Answer]
Done = Callable[[Answer], None]
log = logging.getLogger("httpd")


class Stopped(RuntimeError):
    """The collector was closed: the server is stopping."""


class AnswerCollector:
    def __init__(self, loop: asyncio.AbstractEventLoop, name: str) -> None:
        self._loop = loop
        self._cond = threading.Condition()
        self._pending: list[tuple[Work, Done]] = []
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"{name}-wait", daemon=True)
        self._thread.start()

    def submit(self, work: Work, done: Done) -> None:
        """Run ``work`` on the collector's thread; ``done`` gets its answer on the loop.  ``Stopped`` once closed."""
        with self._cond:
            if self._closed:
                raise Stopped("the server is stopping")
            self._pending.append((work, done))
            if len(self._pending) == 1:
                self._cond.notify()

    def close(self) -> None:
        """Take no more work; the round in progress still hands its answers back (if the loop still runs)."""
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending:
                    return
                taken, self._pending = self._pending, []
            answers = [(done, work()) for work, done in taken]  # work is AppCall.finish: it never raises
            with contextlib.suppress(RuntimeError):  # the loop has stopped, and the connections with it
                self._loop.call_soon_threadsafe(_hand_back, answers)


def _hand_back(answers: list[tuple[Done, Answer]]) -> None:
    """On the loop: each connection writes its answer; one that fails to must not keep the others from theirs."""
    for done, answer in answers:
        try:
            done(answer)
        except Exception:
            log.exception("writing an answer failed")
