"""A credit-based rate limiter, as Jaeger's clients use for rate limiting and lower-bound sampling."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Earns ``credits_per_second``, holds at most ``max_balance``; each kept trace spends one credit.

    It starts full, so the first trace of a new operation is always kept: that
    is what lets the collector learn that the operation exists.
    """

    def __init__(
        self, credits_per_second: float, max_balance: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._credits_per_second = credits_per_second
        self._max_balance = max_balance
        self._balance = max_balance
        self._last = clock()

    @property
    def credits_per_second(self) -> float:
        return self._credits_per_second

    def try_spend(self, cost: float = 1.0) -> bool:
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._last)
            self._last = now
            self._balance = min(self._max_balance, self._balance + elapsed * self._credits_per_second)
            if self._balance >= cost:
                self._balance -= cost
                return True
            return False

    def update(self, credits_per_second: float, max_balance: float) -> None:
        """Change the rate, keeping the balance earned so far (scaled to the new ceiling)."""
        with self._lock:
            if self._max_balance > 0:
                self._balance = self._balance * max_balance / self._max_balance
            else:
                self._balance = max_balance
            self._credits_per_second = credits_per_second
            self._max_balance = max_balance
