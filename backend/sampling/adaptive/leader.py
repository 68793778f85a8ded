"""Leader election through a lease in the sampling store, as Jaeger's ``leaderelection`` does it.

The leader renews every ``leader_lease_refresh_interval``; followers try to
take the lease every ``follower_lease_refresh_interval`` (with jitter, so
they do not all try at once).  The lease lasts one follower interval, so a
leader that dies is replaced within about two of them; one that stops cleanly
gives the lease up at once.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from backend.core.periodic import Periodic
from backend.storage.sampling_store import SamplingStore

log = logging.getLogger(__name__)

LEASE_NAME = "sampling_store_leader"


class LeaderElection:
    def __init__(
        self,
        store: SamplingStore,
        holder: str,
        leader_refresh_ns: int,
        follower_refresh_ns: int,
        clock: Callable[[], int] = time.time_ns,
        lease_name: str = LEASE_NAME,
    ) -> None:
        self._store = store
        self.holder = holder
        self._leader_refresh_s = leader_refresh_ns / 1e9
        self._follower_refresh_s = follower_refresh_ns / 1e9
        self._ttl_ns = follower_refresh_ns
        self._clock = clock
        self._lease_name = lease_name
        self._leader = False
        self._renewals = Periodic("adaptive-leader-election", self._next_wait, self.try_acquire, log)

    def is_leader(self) -> bool:
        return self._leader

    def try_acquire(self) -> bool:
        try:
            leader = self._store.acquire_lease(self._lease_name, self.holder, self._ttl_ns, self._clock())
        except Exception:
            log.exception("adaptive sampling: the leader lease could not be taken or renewed")
            leader = False
        if leader != self._leader:
            log.info("adaptive sampling: %s is now %s", self.holder, "the leader" if leader else "a follower")
        self._leader = leader
        return leader

    def start(self) -> None:
        self.try_acquire()
        self._renewals.start()

    def _next_wait(self) -> float:
        return self._leader_refresh_s if self._leader else self._follower_refresh_s * random.uniform(0.5, 1.0)

    def close(self) -> None:
        self._renewals.stop(timeout=10)
        if self._leader:
            try:
                self._store.forfeit_lease(self._lease_name, self.holder)
            except Exception:
                log.exception("adaptive sampling: the leader lease could not be given up")
            self._leader = False
