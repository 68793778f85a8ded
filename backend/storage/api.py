"""The storage plug-in interface, in the spirit of Jaeger's spanstore.

A plug-in is a ``Storage``: it hands out a writer, a reader, a dependency
reader and a sampling store.  The query API reads only through
these; receivers never see them; plug-ins know nothing of HTTP.  Every
plug-in must pass ``tests/storage/conformance.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from backend.spans.model import SpanBatch, SpanRecord
from backend.storage.sampling_store import SamplingStore


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    span_kind: str  # "server", "client", ... or "" when unspecified


@dataclass(frozen=True, slots=True)
class DependencyLink:
    parent: str
    child: str
    call_count: int


@dataclass(slots=True)
class Trace:
    """A whole trace as read back: its spans and the processes they refer to."""

    spans: list[SpanRecord]
    processes: dict[bytes, bytes]


@dataclass(frozen=True, slots=True)
class TraceQuery:
    """Find traces that contain at least one span matching every given field.

    ``tags`` are AND-ed; each matches a span attribute, a resource attribute
    or an event attribute of that same span whose value, rendered as text
    (``true``/``false`` for booleans, decimal for numbers), equals the given
    string.  Times are nanoseconds since the epoch; ``None`` means unbounded.
    """

    service: str | None = None
    operation: str | None = None
    span_kind: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    start_min_ns: int | None = None
    start_max_ns: int | None = None
    duration_min_ns: int | None = None
    duration_max_ns: int | None = None
    limit: int = 20


SORT_ORDERS = ("newest", "oldest", "slowest", "fastest", "most_spans")


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """What search results are sorted by: the whole trace's extent and size, not just its matching spans.

    ``start_ns`` is the earliest span's start, ``duration_ns`` runs from there
    to the latest span end, ``span_count`` counts every stored span.
    """

    trace_id: bytes
    start_ns: int
    duration_ns: int
    span_count: int


class StorageError(Exception):
    """A storage operation failed; the message says what and where."""


@runtime_checkable
class SpanWriter(Protocol):
    def write(self, batch: SpanBatch) -> None:
        """Store a whole batch, atomically where the backend allows.

        Writing a span that is already stored (same trace id and span id)
        must not create a second copy: delivery upstream is at-least-once.
        """


@runtime_checkable
class SpanReader(Protocol):
    def get_trace(self, trace_id: bytes) -> Trace | None: ...

    def find_trace_ids(self, query: TraceQuery) -> list[bytes]:
        """Ids of matching traces, newest first, at most ``query.limit``."""

    def find_traces(self, query: TraceQuery) -> list[Trace]: ...

    def search_summaries(self, query: TraceQuery, sort: str, offset: int, limit: int) -> tuple[int, list[TraceSummary]]:
        """(number of matching traces, the page ``offset:offset+limit`` of them in ``sort`` order).

        Matching is ``find_trace_ids``'s with no limit (``query.limit`` is
        ignored); the count and the order cover every match.  ``sort`` is one
        of ``SORT_ORDERS``; ties are broken by ascending trace id (for
        ``most_spans``: newest first, then trace id), so pages never overlap.
        A bad ``sort``, offset or limit raises ``ValueError``.
        """

    def get_services(self) -> list[str]: ...

    def get_operations(self, service: str, span_kind: str | None = None) -> list[Operation]: ...


@runtime_checkable
class DependencyReader(Protocol):
    def get_dependencies(self, end_ns: int, lookback_ns: int) -> list[DependencyLink]:
        """Calls between services, from parent/child spans of different services."""


@runtime_checkable
class Storage(Protocol):
    """One configured backend.  ``close`` flushes and releases connections."""

    def writer(self) -> SpanWriter: ...

    def reader(self) -> SpanReader: ...

    def dependency_reader(self) -> DependencyReader: ...

    def sampling_store(self) -> SamplingStore:
        """Where adaptive sampling keeps throughput, probabilities and its leader lease.

        The same object for every caller, so collectors sharing this storage share it too.
        """

    def purge_expired(self, now_ns: int) -> int:
        """Delete data older than the retention; returns spans removed (0 if none kept)."""

    def close(self) -> None: ...
