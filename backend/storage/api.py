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


ATTRIBUTE_LEVELS = ("span", "resource", "scope", "event", "link")


@dataclass(frozen=True, slots=True)
class AttributeFilter:
    """An attribute that one span must carry at a given level (RFC 0005's level-qualified attribute).

    ``level`` is one of ``ATTRIBUTE_LEVELS``, or "" for span-or-resource (the
    RFC's default for an unqualified reference).  ``value`` compares as text,
    as ``TraceQuery.tags`` values do.
    """

    key: str
    value: str
    level: str = ""


@dataclass(frozen=True, slots=True)
class TraceQuery:
    """Find traces that contain at least one span matching every given field.

    ``tags`` are AND-ed; each matches an attribute of that same span, of its
    resource, of its instrumentation scope, of one of its events or of one of
    its links whose value, rendered as text (``true``/``false`` for booleans,
    decimal for numbers), equals the given string
    (``backend.storage.matching`` is the one definition).  Times are
    nanoseconds since the epoch; ``None`` means unbounded.
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
    # From api/v3's query.filter: each must hold on the same span as the tags (AND-ed with them).
    # Plug-ins hand both to backend.storage.matching.TagMatcher, which defines what matches.
    attribute_filters: tuple[AttributeFilter, ...] = ()

    @property
    def matches_attributes(self) -> bool:
        """True when candidates must be tested by attributes (tags or attribute filters), not indexed fields only."""
        return bool(self.tags or self.attribute_filters)


SORT_ORDERS = ("newest", "oldest", "slowest", "fastest", "most_spans", "most_errors", "root")


@dataclass(frozen=True, slots=True)
class ServiceSummary:
    """One service's share of a trace: its spans and how many of them have an error status."""

    name: str
    span_count: int
    error_span_count: int


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """A search result without its spans: what result lists show and are sorted by (Jaeger's TraceSummary).

    Every field covers the whole trace, not just its matching spans.
    ``start_ns`` is the earliest span's start, ``duration_ns`` runs from there
    to the latest span end, ``span_count`` counts every stored span.  The root
    is the span without a parent (the earliest-starting one when several have
    none; ties go to the lowest span id); both root names are "" when every
    span has a parent.  ``error_span_count`` counts spans with an ERROR status,
    ``orphan_span_count`` spans whose parent is not stored, and ``services``
    holds one entry per service, sorted by name.  Plug-ins fill these through
    ``backend.storage.summaries.summarize`` so all agree; a plug-in that keeps
    the defaults fails the conformance suite.
    """

    trace_id: bytes
    start_ns: int
    duration_ns: int
    span_count: int
    root_service: str = ""
    root_operation: str = ""
    error_span_count: int = 0
    orphan_span_count: int = 0
    services: tuple[ServiceSummary, ...] = ()


class StorageError(Exception):
    """A storage operation failed; the message says what and where."""


@runtime_checkable
class SpanWriter(Protocol):
    def write(self, batch: SpanBatch) -> None:
        """Store a whole batch, atomically where the backend allows.

        Writing a span that is already stored (same trace id and span id)
        must not create a second copy: delivery upstream is at-least-once.
        """

    def sync(self) -> None:
        """Return once every write that returned before this call survives a power cut; raise if that failed.

        The persistent sending queue forgets delivered batches, and a durable
        source (a Redis stream) acknowledges them, only after this
        (``backend.exporters.helper.durable_acks``), so a storage whose commits
        are only in the OS's cache when ``write`` returns syncs them here, once
        for many batches.  A storage whose ``write`` returns only once its data
        is durable (or that keeps nothing across a restart) does nothing and
        says why.
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
        of ``SORT_ORDERS``: ``most_errors`` counts error spans, ``root`` is by
        root service then root operation, A to Z by code point (a trace with
        no root first).  Ties are broken by ascending trace id (for
        ``most_spans``, ``most_errors`` and ``root``: newest first, then trace
        id), so pages never overlap.
        A bad ``sort``, offset or limit raises ``ValueError``.  Every field of
        the page's summaries is filled (root, errors, orphans, services): the
        query API answers ``/api/v3/trace-summaries`` from them without
        reading the traces' payloads.
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


@runtime_checkable
class BoundedWrites(Protocol):
    """A storage that lives in the backend's own process (memory), where falling behind makes senders wait.

    The exporter refuses (429) past ``max_pending_spans`` waiting in its sending queue, and while the
    receiver's event loop or worker pool is more than ``max_receive_lag`` nanoseconds behind (0: never):
    refusing tells the senders at once, rather than letting them wait on answers the backend is too busy
    to give.
    """

    max_pending_spans: int
    max_receive_lag: int
