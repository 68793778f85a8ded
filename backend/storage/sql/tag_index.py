"""The ``sql`` plug-in's tag index: which spans may carry ``key=value``, without reading payloads.

Without it, a tag search reads every candidate span in the window and
matches in Python, so a search that finds nothing costs the whole window
(about a second over six hours at a million spans).  The ``span_tag_index``
table holds one narrow row per (indexed key, value text, span): a 64-bit
hash of key and text, the span's service, start and ids, clustered by
(hash, service, start) so that a search reads only the rows of its tag and
service, newest first.

The index narrows, ``backend.storage.matching.TagMatcher`` still decides:
every candidate is read and confirmed, so a hash collision costs a read,
never a wrong answer.  The index holds a row for every text a span's own,
event or link attribute of an indexed key matches (``render_value``'s
texts), so it is a superset of the spans that match on those levels.  What
it does not hold makes the reader fall back to the full scan: a key not in
the list, a derived key (``error``, ``span.kind``...), a value that some
process (resource or scope) holds, or a window older than the key's
``since`` (spans stored before the key was indexed).

Only listed keys are indexed (``index.tag_whitelist``, Jaeger's Cassandra
name), because finding and rendering attributes costs ingest time: one
regular-expression search per span over its bytes; values are read in place
(``value_after``), and a span is decoded only when one is not plain.  Every writer of one database should use
the same list; readers follow the ``span_tag_keys`` table, not their own.
"""

from __future__ import annotations

import hashlib
import re
import time
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, count
from operator import add
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from sqlalchemy import ColumnElement, Connection, Select, and_, select

from backend.spans.model import SpanRecord
from backend.spans.wire import varint
from backend.storage.matching import DERIVED_KEYS, render_value
from backend.storage.sql.schema import Tables

TagRow = tuple[int, int, int, bytes, bytes]  # (hash, service_id, start_ns, trace_id, span_id)

# What HotROD's spans carry on every request and what people search most in HTTP services.
DEFAULT_TAG_KEYS = [
    "session",
    "request",
    "customer",
    "customer.tier",
    "http.status_code",
    "http.response.status_code",
    "error.type",
    "exception.type",
]


@dataclass
class TagIndexOptions:
    tags: bool = True  # false: no index, every tag search scans its window
    tag_whitelist: list[str] = field(default_factory=lambda: list(DEFAULT_TAG_KEYS))

    def __post_init__(self) -> None:
        for key in self.tag_whitelist:
            if not key:
                raise ValueError("tag_whitelist must not hold an empty key")
            if "\0" in key:
                raise ValueError(f"{key!r} holds a NUL character: it cannot be indexed")
            if key in DERIVED_KEYS:
                raise ValueError(f"{key!r} is the span's kind or status, not an attribute: it cannot be indexed")

    @property
    def keys(self) -> list[str]:
        return sorted(set(self.tag_whitelist)) if self.tags else []


def tag_hash(key: str, text: str) -> int:
    """A signed 64-bit hash of ``key`` and one of its value's texts (stable across processes and versions)."""
    digest = hashlib.blake2b(f"{key}\0{text}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _key_pattern(keys: Iterable[str]) -> re.Pattern[bytes]:
    """Finds an attribute of one of ``keys`` in a span's bytes: its KeyValue's key field, tag and length included.

    Every match starts with the key field's tag byte, so the search skips from
    one such byte to the next (measured ~4x faster than the bare keys), and a
    key inside a value or a longer key does not send the span to be decoded.
    """
    fields = []
    for key in sorted(keys):
        encoded = key.encode()
        fields.append(re.escape(varint(len(encoded)) + encoded))
    return re.compile(_KEY_FIELD_TAG + b"(" + b"|".join(fields) + b")")


def value_after(payload: bytes, start: int, end: int) -> str | None:
    """The text of the value whose KeyValue's key field is ``payload[start:end]``, or None: decode to know.

    Read in place for the encodings protobuf writes for short plain values:
    the value field (``0x12``, length below 128) right after the key, holding
    a string (``0x0a``), a bool (``0x10``), an int (``0x18``) or nothing (the
    empty text, as ``render_value``).  The varint before the key field must
    be the KeyValue's length with exactly these two fields, so a KeyValue
    with fields in another order, an unknown field or no value is decoded.
    """
    size = len(payload)
    if end + 2 > size or payload[end] != 0x12:
        return None
    length = payload[end + 1]
    value_start, value_end = end + 2, end + 2 + length
    if length >= 0x80 or value_end > size:
        return None
    whole = varint(value_end - start)
    if start < len(whole) or payload[start - len(whole) : start] != whole:
        return None
    if length == 0:
        return ""
    tag = payload[value_start]
    if tag == 0x0A:
        if payload[value_start + 1] != length - 2:
            return None
        try:
            return payload[value_start + 2 : value_end].decode()
        except UnicodeDecodeError:
            return None
    if tag == 0x10 and length == 2 and payload[value_start + 1] < 2:
        return "true" if payload[value_start + 1] else "false"
    if tag == 0x18:
        number, shift = 0, 0
        for index in range(value_start + 1, value_end):
            byte = payload[index]
            number |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                if index + 1 != value_end:
                    return None
                return str(number - (1 << 64) if number >= 1 << 63 else number)
    return None


_KEY_FIELD_TAG = b"\x0a"  # KeyValue.key: field 1, length-delimited


class TagIndex:
    def __init__(self, options: TagIndexOptions, tables: Tables) -> None:
        self._tables = tables
        self._keys = frozenset(options.keys)
        self._pattern = _key_pattern(self._keys)
        self._key_of = {varint(len(key.encode())) + key.encode(): key for key in self._keys}

    # Writer side

    def register(self, connection: Connection, now_ns: int | None = None) -> None:
        """Record since when each listed key is indexed: from the start when no span is stored yet, else from now.

        The writer calls this in its first batch's transaction: only writers
        promise what the index holds (a query-only process lists nothing).  A
        key dropped from the list is forgotten, so listing it again later
        starts a new ``since`` rather than trusting an index with holes.
        """
        keys, spans = self._tables.tag_index_keys, self._tables.spans
        known = dict(connection.execute(select(keys.c.key, keys.c.since_ns)).all())
        dropped = set(known) - self._keys
        if dropped:
            connection.execute(keys.delete().where(keys.c.key.in_(dropped)))
        missing = self._keys - set(known)
        if missing:
            empty = connection.execute(select(spans.c.trace_id).limit(1)).first() is None
            since = 0 if empty else (time.time_ns() if now_ns is None else now_ns)
            connection.execute(keys.insert(), [{"key": key, "since_ns": since} for key in sorted(missing)])

    def rows(self, spans: Sequence[SpanRecord], service_ids: Sequence[int]) -> list[TagRow]:
        """Index rows of ``spans``, read from their bytes; a span is decoded only when an attribute is not plain.

        The whole batch is searched at once, its payloads joined with NUL
        (which no match can run across: no key holds one, and neither a tag
        nor a length byte is 0), so spans with no listed key (~90 % of
        HotROD's) cost no Python at all.  Every attribute of a listed key
        starts with its key field; in a span the pattern found, each match is
        tried in turn (overlapping ones included, so no attribute hides
        behind a false match).  The value right after it is read in place
        when it is a short string, bool or int and the KeyValue's length
        prefix says the two fields are all of it (``value_after``); anything
        else decodes the span.  A false match (a key's bytes inside some
        value) may add a row no span needs: the matcher confirms every
        candidate, so that costs a read, never a wrong answer.
        """
        if not self._keys:
            return []
        payloads = [record.payload for record in spans]
        ends = list(map(add, accumulate(map(len, payloads)), count(1)))  # where each span's separator ends
        rows: list[TagRow] = []
        done = -1
        for found in self._pattern.finditer(b"\0".join(payloads)):
            number = bisect_right(ends, found.start())
            if number == done:
                continue
            done = number
            texts = self._texts(payloads[number])
            if texts:
                record, service_id = spans[number], service_ids[number]
                start_ns, trace_id, span_id = record.start_ns, record.trace_id, record.span_id
                rows.extend((tag_hash(key, text), service_id, start_ns, trace_id, span_id) for key, text in texts)
        return rows

    def _texts(self, payload: bytes) -> set[tuple[str, str]] | None:
        """The (key, text) pairs of one span's listed attributes, read in place where ``value_after`` can."""
        search, keys = self._pattern.search, self._key_of
        read: set[tuple[str, str]] = set()
        match = search(payload)
        while match is not None:
            start = match.start()
            text = value_after(payload, start, match.end())
            if text is None:
                return self._decoded_texts(payload)
            read.add((keys[match.group(1)], text))
            match = search(payload, start + 1)
        return read

    def _decoded_texts(self, payload: bytes) -> set[tuple[str, str]] | None:
        """The (key, text) pairs of a span's listed attributes on every level, by decoding it; None if it does not."""
        try:
            span = Span.FromString(payload)
        except DecodeError:
            return None  # read back as its indexed fields only (decode_span), so no attribute can match it
        texts: set[tuple[str, str]] = set()
        levels = (span.attributes, *(e.attributes for e in span.events), *(li.attributes for li in span.links))
        for attributes in levels:
            for attribute in attributes:
                if attribute.key in self._keys:
                    texts.update((attribute.key, text) for text in render_value(attribute.value))
        return texts

    # Reader side

    def usable_tag(
        self, connection: Connection, tags: Mapping[str, str], start_min_ns: int | None
    ) -> tuple[str, str] | None:
        """A tag of the query the index holds every span of for this window, or None (then scan)."""
        indexed = {k for k in tags if k not in DERIVED_KEYS}
        if not indexed:
            return None
        keys = self._tables.tag_index_keys
        since = dict(connection.execute(select(keys.c.key, keys.c.since_ns).where(keys.c.key.in_(indexed))).all())
        for key in sorted(since):
            if since[key] <= (start_min_ns if start_min_ns is not None else 0):
                return key, tags[key]
        return None

    def candidates(
        self,
        columns: tuple[Any, ...],
        tag: tuple[str, str],
        window: tuple[int | None, int | None],
        service: ColumnElement[bool],
        conditions: list[ColumnElement[bool]],
    ) -> Select[Any]:
        """Spans that may carry ``tag`` and pass ``service`` (on the index's service_id) and ``conditions``.

        Newest first along the index, one service per statement as a rule.

        The index is keyed by (hash, service, start), so the database ranges
        over exactly this tag's rows of this service in ``window`` (start min,
        max) and stops with the caller: a tag that other services' spans carry
        costs nothing here.
        """
        spans, index = self._tables.spans, self._tables.span_tags
        joined = index.join(spans, and_(spans.c.trace_id == index.c.trace_id, spans.c.span_id == index.c.span_id))
        bounds = [index.c.hash == tag_hash(*tag), service, *conditions]
        if window[0] is not None:
            bounds.append(index.c.start_ns >= window[0])
        if window[1] is not None:
            bounds.append(index.c.start_ns <= window[1])
        return select(*columns).select_from(joined).where(*bounds).order_by(index.c.start_ns.desc())
