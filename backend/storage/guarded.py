"""Readers that say which storage failed and keep its health: what the query API reads through.

A plug-in raises its own errors when its server is down (``StorageError``
from SQL, ``redis.ConnectionError`` from Redis ...).  Wrapped here, any of
them becomes a ``StorageError`` naming the configured storage, which the
query API answers with Jaeger's envelope and 503, and every call reports
the outcome to the storage's health (``jaeger_storage_up``, the health
endpoint), so the first read that works again shows the recovery without a
restart.  ``ValueError`` stays as it is: it means a bad request, not a bad storage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from backend.storage.api import (
    DependencyLink,
    DependencyReader,
    Operation,
    SpanReader,
    StorageError,
    Trace,
    TraceQuery,
    TraceSummary,
)

T = TypeVar("T")
Report = Callable[[str, Exception | None], None]


class _Guard:
    def __init__(self, name: str, report: Report) -> None:
        self._name = name
        self._report = report

    def _call(self, work: Callable[[], T]) -> T:
        try:
            result = work()
        except ValueError:
            raise
        except Exception as exc:
            self._report(self._name, exc)
            raise StorageError(f"storage {self._name!r} is unavailable: {exc}") from exc
        self._report(self._name, None)
        return result


class GuardedReader(_Guard):
    def __init__(self, reader: SpanReader, name: str, report: Report) -> None:
        super().__init__(name, report)
        self._reader = reader

    def get_trace(self, trace_id: bytes) -> Trace | None:
        return self._call(lambda: self._reader.get_trace(trace_id))

    def find_trace_ids(self, query: TraceQuery) -> list[bytes]:
        return self._call(lambda: self._reader.find_trace_ids(query))

    def find_traces(self, query: TraceQuery) -> list[Trace]:
        return self._call(lambda: self._reader.find_traces(query))

    def search_summaries(self, query: TraceQuery, sort: str, offset: int, limit: int) -> tuple[int, list[TraceSummary]]:
        return self._call(lambda: self._reader.search_summaries(query, sort, offset, limit))

    def get_services(self) -> list[str]:
        return self._call(self._reader.get_services)

    def get_operations(self, service: str, span_kind: str | None = None) -> list[Operation]:
        return self._call(lambda: self._reader.get_operations(service, span_kind))


class GuardedDependencyReader(_Guard):
    def __init__(self, reader: DependencyReader, name: str, report: Report) -> None:
        super().__init__(name, report)
        self._reader = reader

    def get_dependencies(self, end_ns: int, lookback_ns: int) -> list[DependencyLink]:
        return self._call(lambda: self._reader.get_dependencies(end_ns, lookback_ns))
