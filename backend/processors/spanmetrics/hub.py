"""Where the spanmetrics processor and the query API meet: one hub per trace storage.

The processor is part of a pipeline and the query API of an extension; neither
can see the other through the ``Host``.  Both name the same storage in their
config (as adaptive sampling and its store do), so the store the processor
fills is found through that storage.  A hub outlives neither: it is keyed
weakly by the storage object.
"""

from __future__ import annotations

import threading

from backend.core.per_object import PerObject
from backend.processors.spanmetrics.store import TimeSeriesStore
from backend.storage.api import Storage


class MetricsHub:
    def __init__(self) -> None:
        self._store: TimeSeriesStore | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> TimeSeriesStore | None:
        return self._store

    def attach(self, store: TimeSeriesStore) -> None:
        with self._lock:
            if self._store is not None and self._store is not store:
                raise ValueError("another spanmetrics processor already fills the metrics of this storage")
            self._store = store

    def detach(self, store: TimeSeriesStore) -> None:
        with self._lock:
            if self._store is store:
                self._store = None


# every spanmetrics processor writing to one storage, and the query extension reading it, meet on one hub
hub_for: PerObject[Storage, MetricsHub] = PerObject(lambda _storage: MetricsHub())
