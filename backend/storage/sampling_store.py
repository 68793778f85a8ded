"""The sampling store: what adaptive sampling keeps in the shared storage, after Jaeger's samplingstore.

Every collector writes the root-span *throughput* it counted per service and
operation for each calculation interval; the one *leader* (whoever holds the
lease) reads everyone's throughput back, computes probabilities and writes
them (with the QPS behind them); the followers read the latest probabilities
and serve them.  Times are nanoseconds since the epoch, from the caller's
clock, so the stores stay deterministic under test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

# service -> operation -> value
ServiceOperationValues = dict[str, dict[str, float]]


@dataclass(slots=True)
class Throughput:
    """Root spans counted for one service and operation in one interval.

    ``count`` is the number of probabilistically sampled root traces;
    ``probabilities`` the distinct probabilities they were sampled at
    (formatted with six decimals, as Jaeger does), which tells the leader
    whether the service follows the probabilities it was served.
    ``requests`` is the traffic those traces stand for, the sum of ``1/p``
    (an addition to Jaeger's model: it lets the leader compute from the real
    request rate even while clients still apply an older probability).
    """

    service: str
    operation: str
    count: int = 0
    probabilities: set[str] = field(default_factory=set)
    requests: float = 0.0


@dataclass(frozen=True, slots=True)
class StoredProbabilities:
    hostname: str
    at_ns: int
    probabilities: ServiceOperationValues
    qps: ServiceOperationValues


@runtime_checkable
class SamplingStore(Protocol):
    def insert_throughput(self, throughput: list[Throughput], at_ns: int) -> None:
        """Record one collector's counts for the interval that ended at ``at_ns``."""

    def get_throughput(self, start_ns: int, end_ns: int) -> list[Throughput]:
        """Every collector's counts recorded in ``[start_ns, end_ns)``, one entry per insert."""

    def insert_probabilities_and_qps(
        self, hostname: str, probabilities: ServiceOperationValues, qps: ServiceOperationValues, at_ns: int
    ) -> None: ...

    def get_latest_probabilities(self) -> ServiceOperationValues:
        """The most recently written probabilities, or an empty mapping."""

    def acquire_lease(self, name: str, holder: str, ttl_ns: int, now_ns: int) -> bool:
        """Take or renew lease ``name`` for ``holder`` until ``now_ns + ttl_ns``.

        Succeeds when the lease is free, expired, or already ``holder``'s;
        atomic across every process sharing the store.
        """

    def forfeit_lease(self, name: str, holder: str) -> bool:
        """Give the lease up early (on shutdown) so another collector takes over at once."""

    def purge(self, before_ns: int) -> None:
        """Drop throughput and probabilities recorded before ``before_ns``."""
