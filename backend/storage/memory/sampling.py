"""The sampling store in memory: for a single backend process (all-in-one), shared by its components."""

from __future__ import annotations

import copy
import threading

from backend.storage.sampling_store import ServiceOperationValues, StoredProbabilities, Throughput


class MemorySamplingStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._throughput: list[tuple[int, Throughput]] = []
        self._probabilities: list[StoredProbabilities] = []
        self._leases: dict[str, tuple[str, int]] = {}  # name -> (holder, expires_ns)

    def insert_throughput(self, throughput: list[Throughput], at_ns: int) -> None:
        with self._lock:
            self._throughput.extend((at_ns, copy.deepcopy(t)) for t in throughput)

    def get_throughput(self, start_ns: int, end_ns: int) -> list[Throughput]:
        with self._lock:
            return [copy.deepcopy(t) for at, t in self._throughput if start_ns <= at < end_ns]

    def insert_probabilities_and_qps(
        self, hostname: str, probabilities: ServiceOperationValues, qps: ServiceOperationValues, at_ns: int
    ) -> None:
        with self._lock:
            self._probabilities.append(
                StoredProbabilities(hostname, at_ns, copy.deepcopy(probabilities), copy.deepcopy(qps))
            )

    def get_latest_probabilities(self) -> ServiceOperationValues:
        with self._lock:
            if not self._probabilities:
                return {}
            latest = max(self._probabilities, key=lambda p: p.at_ns)
            return copy.deepcopy(latest.probabilities)

    def acquire_lease(self, name: str, holder: str, ttl_ns: int, now_ns: int) -> bool:
        with self._lock:
            current = self._leases.get(name)
            if current is None or current[0] == holder or current[1] <= now_ns:
                self._leases[name] = (holder, now_ns + ttl_ns)
                return True
            return False

    def forfeit_lease(self, name: str, holder: str) -> bool:
        with self._lock:
            current = self._leases.get(name)
            if current is not None and current[0] == holder:
                del self._leases[name]
                return True
            return False

    def purge(self, before_ns: int) -> None:
        with self._lock:
            self._throughput = [(at, t) for at, t in self._throughput if at >= before_ns]
            latest = max(self._probabilities, key=lambda p: p.at_ns, default=None)
            self._probabilities = [p for p in self._probabilities if p.at_ns >= before_ns or p is latest]
