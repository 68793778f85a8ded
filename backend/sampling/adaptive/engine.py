"""One collector's adaptive sampling: leader election, aggregator, post-aggregator and provider, wired.

The pipeline's ``adaptive_sampling`` processor feeds ``handle_batch``; the
``remote_sampling`` extension serves ``get_strategy``.  Each instance has a
unique participant name, so several in one process behave like separate
collectors sharing a store.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable

from backend.sampling.adaptive.aggregator import Aggregator
from backend.sampling.adaptive.leader import LeaderElection
from backend.sampling.adaptive.options import AdaptiveOptions
from backend.sampling.adaptive.post_aggregator import PostAggregator
from backend.sampling.adaptive.provider import AdaptiveProvider
from backend.sampling.strategies import SamplingStrategy
from backend.spans.model import SpanBatch
from backend.storage.sampling_store import SamplingStore


class AdaptiveSampling:
    def __init__(
        self,
        options: AdaptiveOptions,
        store: SamplingStore,
        participant: str | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.participant = participant or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.election = LeaderElection(
            store,
            self.participant,
            options.leader_lease_refresh_interval,
            options.follower_lease_refresh_interval,
            clock,
        )
        self.provider = AdaptiveProvider(options, store)
        self.post_aggregator = PostAggregator(options, self.participant, store, self.election.is_leader, clock)
        self.aggregator = Aggregator(store, self.post_aggregator, self.provider.probability_for, clock)
        self.aggregator.on_calculated = lambda: self.provider.update(self.post_aggregator.probabilities)

    def start(self) -> None:
        self.election.start()
        self.provider.start()
        self.aggregator.start()

    def close(self) -> None:
        self.aggregator.close()
        self.election.close()
        self.provider.close()

    def is_leader(self) -> bool:
        return self.election.is_leader()

    def get_strategy(self, service: str) -> SamplingStrategy:
        return self.provider.get_strategy(service)

    def handle_batch(self, batch: SpanBatch) -> None:
        self.aggregator.handle_batch(batch)
