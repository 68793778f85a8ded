"""The Collector's ``retry_on_failure`` options, shared by every exporter that retries."""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.binding import ConfigError, Duration


@dataclass
class RetryOptions:
    """Attempts in all (not retries) and an exponential back-off between them, capped.

    An exporter with other defaults subclasses this and redeclares the fields it changes.
    """

    enabled: bool = True
    max_attempts: int = 5
    initial_interval: Duration = Duration(100_000_000)
    max_interval: Duration = Duration(2_000_000_000)

    @property
    def attempts(self) -> int:
        return self.max_attempts if self.enabled else 1

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (counted from 1): doubling, at most the cap."""
        return float(min(self.initial_interval * 2 ** (attempt - 1), self.max_interval)) / 1e9

    def check(self, where: str) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"{where}.retry_on_failure.max_attempts", "expected at least 1")
