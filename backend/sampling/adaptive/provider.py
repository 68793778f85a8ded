"""Adaptive strategies for the endpoint: the latest probabilities, as per-operation strategies.

The leader updates it right after each calculation; every collector also
reloads from the store periodically, which is how followers learn what the
leader computed.  A service or operation not seen yet gets the initial
probability, with ``min_samples_per_second`` as the lower bound.
"""

from __future__ import annotations

import logging

from backend.core.periodic import Periodic
from backend.sampling.adaptive.options import AdaptiveOptions
from backend.sampling.strategies import OperationSampling, SamplingStrategy
from backend.storage.sampling_store import SamplingStore, ServiceOperationValues

log = logging.getLogger(__name__)


class AdaptiveProvider:
    def __init__(self, options: AdaptiveOptions, store: SamplingStore) -> None:
        self._options = options
        self._store = store
        self._probabilities: ServiceOperationValues = {}
        self._strategies: dict[str, SamplingStrategy] = {}
        interval_s = options.follower_probability_refresh_interval / 1e9
        self._reloads = Periodic("adaptive-provider", interval_s, self.refresh, log)

    def update(self, probabilities: ServiceOperationValues) -> None:
        strategies = {service: self._strategy(operations) for service, operations in probabilities.items()}
        self._probabilities, self._strategies = probabilities, strategies

    def refresh(self) -> None:
        try:
            self.update(self._store.get_latest_probabilities())
        except Exception:
            log.exception("adaptive sampling: could not load probabilities, serving the previous ones")

    def _strategy(self, operations: dict[str, float]) -> SamplingStrategy:
        initial = self._options.initial_sampling_probability
        return SamplingStrategy(
            probability=initial,
            operation_sampling=OperationSampling(initial, self._options.min_samples_per_second, dict(operations)),
        )

    def get_strategy(self, service: str) -> SamplingStrategy:
        strategy = self._strategies.get(service)
        return strategy if strategy is not None else self._strategy({})

    def probability_for(self, service: str, operation: str) -> float:
        """What a root span of this service and operation was most likely sampled at."""
        return self._probabilities.get(service, {}).get(operation, self._options.initial_sampling_probability)

    def start(self) -> None:
        self.refresh()
        self._reloads.start()

    def close(self) -> None:
        self._reloads.stop(timeout=10)
