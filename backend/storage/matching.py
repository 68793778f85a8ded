"""The one place that decides whether a span matches a TraceQuery.

Plug-ins filter candidates on the indexed fields first (in SQL, in a Python
loop, ...) and only then ask ``TagMatcher`` about tags, because that needs
the span's payload decoded and its process's resource and scope attributes.  Decoded
processes are cached: a process id is a digest of its bytes, so the decoded
attributes under an id never change.

A tag ``key=value`` matches when the span, its resource, its
instrumentation scope, one of its events or one of its links has attribute
``key`` whose value, rendered as text, equals ``value`` (Jaeger's storage
fixtures search all five levels).  Tags are AND-ed, each satisfied on its own.  Like Jaeger's own
stores, the fields that Jaeger shows as tags but OTLP keeps elsewhere are
searchable too: ``span.kind``, ``otel.status_code``,
``otel.status_description`` and ``error=true``.
"""

from __future__ import annotations

import base64
import json
import math
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import chain

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span

from backend.spans.attributes import plain
from backend.spans.model import KIND_NAMES, STATUS_ERROR, STATUS_OK, SpanRecord
from backend.spans.otlp import decode_span
from backend.storage.api import AttributeFilter, TraceQuery

_STATUS_NAMES = {STATUS_OK: "OK", STATUS_ERROR: "ERROR"}


def render_double(value: float) -> set[str]:
    """Every text a user may type for a double: Python's ``repr`` and Go's shortest form (``1`` for 1.0)."""
    if math.isnan(value):
        return {"nan", "NaN"}
    if math.isinf(value):
        return {"inf", "+Inf"} if value > 0 else {"-inf", "-Inf"}
    texts = {repr(value)}
    if value.is_integer() and abs(value) < 1e21:
        texts.add(str(int(value)))
    return texts


def render_value(value: AnyValue) -> set[str]:
    """The texts an attribute value matches: ``true``/``false``, decimal ints, doubles, strings as is."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return {value.string_value}
    if which == "bool_value":
        return {"true" if value.bool_value else "false"}
    if which == "int_value":
        return {str(value.int_value)}
    if which == "double_value":
        return render_double(value.double_value)
    if which == "bytes_value":
        return {base64.b64encode(value.bytes_value).decode()}
    if which is None:
        return {""}
    return {json.dumps(plain(value), separators=(",", ":"))}


def attribute_texts(attributes: Iterable[KeyValue], keys: Iterable[str]) -> dict[str, set[str]]:
    """For the wanted ``keys`` only, the texts each attribute's value matches."""
    wanted = set(keys)
    found: dict[str, set[str]] = {}
    for attribute in attributes:
        if attribute.key in wanted:
            found.setdefault(attribute.key, set()).update(render_value(attribute.value))
    return found


Texts = dict[str, set[str]]  # attribute key -> the texts its values match


@dataclass(frozen=True, slots=True)
class ProcessTexts:
    """A process's attributes by level, and both levels merged (what an unqualified tag searches)."""

    resource: Texts
    scope: Texts
    merged: Texts


def _texts(attributes: Iterable[KeyValue]) -> Texts:
    found: Texts = {}
    for attribute in attributes:
        found.setdefault(attribute.key, set()).update(render_value(attribute.value))
    return found


class ProcessCache:
    """Resource and scope attributes of processes, decoded once each and rendered as texts.

    Thread-safe; bounded by ``max_entries`` (cleared wholesale when full:
    processes are few, and a miss only costs one decode).
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self._max_entries = max_entries
        self._entries: dict[bytes, ProcessTexts] = {}
        self._lock = threading.Lock()

    def attributes(self, process_id: bytes, load: Callable[[bytes], bytes | None]) -> ProcessTexts:
        """The process's attributes; ``load`` fetches its blob on a miss."""
        cached = self._entries.get(process_id)
        if cached is not None:
            return cached
        blob = load(process_id)
        holder = ResourceSpans.FromString(blob) if blob is not None else ResourceSpans()
        resource = _texts(holder.resource.attributes)
        scope = _texts(chain.from_iterable(scope_spans.scope.attributes for scope_spans in holder.scope_spans))
        merged = {key: resource.get(key, set()) | scope.get(key, set()) for key in resource.keys() | scope.keys()}
        decoded = ProcessTexts(resource, scope, merged)
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[process_id] = decoded
        return decoded

    def holds(self, process_id: bytes, load: Callable[[bytes], bytes | None], key: str, value: str) -> bool:
        """Whether the process's resource or scope gives ``key`` a value whose text is ``value`` (as a tag matches)."""
        return value in self.attributes(process_id, load).merged.get(key, ())


# Searchable like attributes but read from the span's kind and status fields.
DERIVED_KEYS = frozenset({"span.kind", "otel.status_code", "error", "otel.status_description"})


def derived_texts(record: SpanRecord, span: Span) -> Texts:
    derived = {"span.kind": {KIND_NAMES.get(record.kind, "")}}
    status = _STATUS_NAMES.get(record.status_code)
    if status:
        derived["otel.status_code"] = {status}
    if record.status_code == STATUS_ERROR:
        derived["error"] = {"true"}
    if span.HasField("status") and span.status.message:  # see model.STATUS_UNSET
        derived["otel.status_description"] = {span.status.message}
    return derived


class TagMatcher:
    """Tests candidate spans against a query's tags and attribute filters; build one per query.

    An attribute filter searches only its level: ``span`` the span's own
    attributes, ``resource`` and ``scope`` the process's, ``event`` and
    ``link`` each event's or link's, and "" span or resource.  The derived
    keys (``error``, ``span.kind``...) are tags only: they are fields, not
    attributes, in RFC 0005.
    """

    def __init__(
        self,
        tags: Mapping[str, str],
        processes: ProcessCache,
        load_process: Callable[[bytes], bytes | None],
        filters: Iterable[AttributeFilter] = (),
    ) -> None:
        self._tags = dict(tags)
        self._filters = tuple(filters)
        self._keys = set(self._tags) | {f.key for f in self._filters}
        self._processes = processes
        self._load_process = load_process
        # Keys that only the span's own bytes can hold: attribute keys appear there verbatim (UTF-8).
        self._payload_keys = [(key, key.encode()) for key in self._tags if key not in DERIVED_KEYS]
        self._payload_keys += [(f.key, f.key.encode()) for f in self._filters]

    def __bool__(self) -> bool:
        """False when there is nothing to test, so callers can skip decoding entirely."""
        return bool(self._keys)

    def matches(self, record: SpanRecord) -> bool:
        if not self._keys:
            return True
        process = self._processes.attributes(record.process_id, self._load_process)
        payload = record.payload
        for key, encoded in self._payload_keys:
            if encoded not in payload and key not in process.merged:
                return False  # cheap rejection: most candidates are never decoded
        span = decode_span(record)[0]
        own = attribute_texts(span.attributes, self._keys)
        events = [attribute_texts(event.attributes, self._keys) for event in span.events]
        links = [attribute_texts(link.attributes, self._keys) for link in span.links]
        tag_sources = (own, process.merged, derived_texts(record, span), *events, *links)
        level_sources = {
            "": (own, process.resource),
            "span": (own,),
            "resource": (process.resource,),
            "scope": (process.scope,),
            "event": events,
            "link": links,
        }
        return all(
            any(value in source.get(key, ()) for source in tag_sources) for key, value in self._tags.items()
        ) and all(any(f.value in source.get(f.key, ()) for source in level_sources[f.level]) for f in self._filters)


def matcher_for(
    query: TraceQuery, processes: ProcessCache, load_process: Callable[[bytes], bytes | None]
) -> TagMatcher:
    """The matcher of a query's tags and attribute filters."""
    return TagMatcher(query.tags, processes, load_process, query.attribute_filters)


def kind_filter(span_kind: str | None) -> int | None:
    """The OTLP kind number a query's ``span_kind`` asks for; None when any kind will do.

    An unknown kind name matches nothing (-1), rather than silently everything.
    """
    if not span_kind:
        return None
    for kind, name in KIND_NAMES.items():
        if name == span_kind:
            return kind
    return -1


def indexed_match(record: SpanRecord, query: TraceQuery, kind: int | None) -> bool:
    """The cheap checks on indexed fields, for plug-ins that filter in Python; ``kind`` from ``kind_filter``."""
    return (
        (not query.service or record.service == query.service)
        and (not query.operation or record.name == query.operation)
        and (kind is None or record.kind == kind)
        and (query.start_min_ns is None or record.start_ns >= query.start_min_ns)
        and (query.start_max_ns is None or record.start_ns <= query.start_max_ns)
        and (query.duration_min_ns is None or record.duration_ns >= query.duration_min_ns)
        and (query.duration_max_ns is None or record.duration_ns <= query.duration_max_ns)
    )


def newest_trace_ids(spans_newest_first: Iterable[SpanRecord], matcher: TagMatcher, limit: int) -> list[bytes]:
    """Distinct trace ids of the spans that pass ``matcher``, in the order given, at most ``limit``.

    Given candidates newest first, the first match of a trace is its newest
    matching span, so the result is ordered as ``find_trace_ids`` promises, and
    the scan stops as soon as ``limit`` traces are found.
    """
    found: dict[bytes, None] = {}
    if limit < 1:
        return []
    for record in spans_newest_first:
        if record.trace_id in found or not matcher.matches(record):
            continue
        found[record.trace_id] = None
        if len(found) >= limit:
            break
    return list(found)
