"""``retry_on_failure``: the Collector's options, and the jittered exponential back-off they describe.

Defaults differ from the Collector's (5 s, 30 s, 5 min) because the usual
peer here is a local storage: a short first interval and a 5 s cap find a
recovered database within seconds, and ``max_elapsed_time`` is 0 (retry
for as long as the storage is down) because a batch in the sending queue
was already acknowledged to its sender: giving up on it would lose it.
Set ``max_elapsed_time`` to give up after a while, as the Collector does.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from backend.core.binding import ConfigError, Duration


class Permanent(Exception):
    """A failure no retry can fix (the peer rejected the data itself): the batch is given up at once."""


class Throttled(Exception):
    """The peer is full (``overloaded``: senders hear 429, not 503) or asked for a wait (``retry_after`` seconds)."""

    def __init__(self, message: str, retry_after: float | None = None, overloaded: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.overloaded = overloaded


@dataclass
class RetryOptions:
    enabled: bool = True
    initial_interval: Duration = Duration(100_000_000)
    max_interval: Duration = Duration(5_000_000_000)
    max_elapsed_time: Duration = Duration(0)  # 0: never give up
    multiplier: float = 1.5
    randomization_factor: float = 0.5

    def check(self, where: str) -> None:
        at = f"{where}.retry_on_failure"
        for name in ("initial_interval", "max_interval", "max_elapsed_time"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{at}.{name}", "expected 0 or a positive duration")
        if self.multiplier < 1:
            raise ConfigError(f"{at}.multiplier", f"expected at least 1, got {self.multiplier}")
        if not 0 <= self.randomization_factor <= 1:
            raise ConfigError(f"{at}.randomization_factor", f"expected 0 to 1, got {self.randomization_factor}")
        if 0 < self.max_elapsed_time < self.initial_interval:
            raise ConfigError(f"{at}.max_elapsed_time", "expected 0 (never give up) or at least initial_interval")

    def backoff(self) -> BackOff:
        return BackOff(self)


class BackOff:
    """The waits between attempts at one batch: each ``multiplier`` times the last, up to ``max_interval``,
    spread by ±``randomization_factor`` so that many senders retrying at once do not stay in step."""

    def __init__(self, options: RetryOptions) -> None:
        self._options = options
        self._interval = options.initial_interval / 1e9
        self._started = time.monotonic()

    def next_wait(self, hint: float | None = None) -> float | None:
        """Seconds to wait before the next attempt, or None when retrying must stop.

        ``hint`` is the peer's own Retry-After, honoured up to ``max_interval``.
        """
        options = self._options
        if not options.enabled:
            return None
        cap = options.max_interval / 1e9
        if hint is not None:
            wait = min(hint, cap)
        else:
            spread = self._interval * options.randomization_factor
            wait = min(random.uniform(self._interval - spread, self._interval + spread), cap)
            self._interval = min(self._interval * options.multiplier, cap)
        limit = options.max_elapsed_time / 1e9
        if limit and time.monotonic() + wait - self._started > limit:
            return None
        return wait
