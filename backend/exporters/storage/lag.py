"""How far behind the receiving event loop is: the wait a request that arrives now has before it is read.

An HTTP receiver reads and decodes on its event loop's thread, one ready connection after another.
When that thread gets too little of the GIL (searches of the in-process memory store decoding and
sorting beside it) or has more to decode than it can, a loop round takes longer and every sender
waits that long for its answer, while the sending queue behind stays short: a queue bound never
sees it.  The loop's lag does, measured as asyncio itself would notice it: a callback scheduled now
runs only once the loop has been through everything already ready.

``behind()`` is asked on the receiving thread before each request is decoded
(``Consumer.refusal()``); it costs a dictionary look-up and a clock read.  One probe per loop is in
flight at a time: the first request of a round schedules it, and it runs first in the next round.
A request read late in a round may have arrived just after the previous round began, so it has
waited about the previous round (what the last probe measured) plus this round so far (the age of
the probe in flight): that sum is the lag.  After a pause longer than the last round, the loop was
waiting for input, not behind: that round no longer counts.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref


class _Probe:
    __slots__ = ("loop", "sent", "ran", "lag", "__weakref__")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.sent = 0.0  # when the probe in flight was scheduled; 0: none in flight
        self.ran = 0.0  # when the last probe ran
        self.lag = 0.0  # how long it waited: the previous round

    def behind(self) -> float:
        now = time.monotonic()
        if not self.sent:
            if now - self.ran > self.lag:
                self.lag = 0.0
            self.sent = now
            self.loop.call_soon(self._ran)
        return self.lag + (now - self.sent)

    def _ran(self) -> None:
        self.ran = time.monotonic()
        self.lag = self.ran - self.sent
        self.sent = 0.0


class LoopLag:
    """Lag of the event loop of whichever thread asks; 0 for a thread that runs no loop (gRPC's workers)."""

    def __init__(self) -> None:
        self._probes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Probe] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def behind(self) -> float:
        """Seconds a request arriving now on this thread's loop waits before the loop reads it (a forecast)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return 0.0
        probe = self._probes.get(loop)
        if probe is None:
            with self._lock:  # loops of other receivers may be adding theirs
                probe = self._probes.setdefault(loop, _Probe(loop))
        return probe.behind()
