"""Adaptive sampling options: names and defaults as Jaeger's (``internal/sampling/samplingstrategy/adaptive``)."""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.binding import ConfigError, Duration

SECOND = 1_000_000_000


@dataclass
class AdaptiveOptions:
    # traces per second wanted for each service and operation
    target_samples_per_second: float = 1.0
    # |observed - target| / target below this leaves the probability alone
    delta_tolerance: float = 0.3
    # how many recent buckets the weighted QPS uses (Jaeger's BucketsForCalculation)
    calculation_buckets: int = 1
    calculation_interval: Duration = Duration(60 * SECOND)
    # throughput buckets kept in memory
    aggregation_buckets: int = 10
    # how far behind now the calculation looks, so every client has polled the last probabilities
    calculation_delay: Duration = Duration(120 * SECOND)
    initial_sampling_probability: float = 0.001
    min_sampling_probability: float = 1e-5
    min_samples_per_second: float = 1.0 / 60.0
    leader_lease_refresh_interval: Duration = Duration(5 * SECOND)
    follower_lease_refresh_interval: Duration = Duration(60 * SECOND)
    # how often a follower reloads what the leader wrote (a constant, 20 s, in Jaeger)
    follower_probability_refresh_interval: Duration = Duration(20 * SECOND)

    def validate(self, where: str) -> AdaptiveOptions:
        positive = ("target_samples_per_second", "calculation_interval", "leader_lease_refresh_interval")
        for name in (*positive, "follower_lease_refresh_interval", "follower_probability_refresh_interval"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{where}.{name}", f"must be positive, got {getattr(self, name)}")
        for name in ("calculation_buckets", "aggregation_buckets"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{where}.{name}", f"must be at least 1, got {getattr(self, name)}")
        for name in ("initial_sampling_probability", "min_sampling_probability"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ConfigError(f"{where}.{name}", f"must be within (0, 1], got {getattr(self, name)}")
        for name in ("delta_tolerance", "min_samples_per_second", "calculation_delay"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{where}.{name}", f"must not be negative, got {getattr(self, name)}")
        if self.leader_lease_refresh_interval >= self.follower_lease_refresh_interval:
            # The lease lasts one follower interval (leader.py): renewed no sooner, it lapses and leaders flap.
            lifetime, renewal = self.follower_lease_refresh_interval / 1e9, self.leader_lease_refresh_interval / 1e9
            raise ConfigError(
                f"{where}.leader_lease_refresh_interval",
                f"must be shorter than follower_lease_refresh_interval ({lifetime:g}s), the lease's lifetime,"
                f" so the leader renews it before it expires; got {renewal:g}s",
            )
        return self
