"""Searchable attribute texts of spans, pulled out at write time so tag search is a column scan.

Each span gets two parallel arrays, keys and texts: its own attributes, its
events' and links' attributes and its status message (as ``otel.status_description``),
each value rendered as the texts ``backend.storage.matching`` matches a tag
against.  A tag search is then ``arrayExists`` over those two columns, with
no payload decoded.  Keys repeat across millions of spans, so their column
is ``LowCardinality`` and costs under a byte a span; the texts are plain
strings (an array of ``LowCardinality`` with ~100,000 distinct values was
measured 30x slower to scan).  Resource attributes are kept once per
process instead.

The spans of a batch are parsed in one protobuf call: their payloads are
framed as the repeated field of a wrapper message that declares only
attributes, events and the status, so the rest of each span stays unparsed
bytes.  The Python loop over the attributes is what remains: ~6 µs a span
with tracegen's 11 attributes (the parse alone ~1 µs), about as much as
the rest of ingest; the texts go to Arrow as flat lists with offsets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import DecodeError
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from backend.spans.proto_tables import OPTIONAL, REPEATED, Field, FieldType, file_of
from backend.spans.wire import varint
from backend.storage.matching import render_value

STATUS_DESCRIPTION = "otel.status_description"
_PACKAGE = "hotrod_backend.clickhouse_tags"
_T = FieldType
_KEY_VALUE = ".opentelemetry.proto.common.v1.KeyValue"
_MESSAGES: dict[str, list[Field]] = {
    "Event": [("attributes", 3, _T.TYPE_MESSAGE, REPEATED, _KEY_VALUE)],
    "Link": [("attributes", 4, _T.TYPE_MESSAGE, REPEATED, _KEY_VALUE)],
    "Span": [
        ("attributes", 9, _T.TYPE_MESSAGE, REPEATED, _KEY_VALUE),
        ("events", 11, _T.TYPE_MESSAGE, REPEATED, f".{_PACKAGE}.Event"),
        ("links", 13, _T.TYPE_MESSAGE, REPEATED, f".{_PACKAGE}.Link"),
        ("status", 15, _T.TYPE_MESSAGE, OPTIONAL, ".opentelemetry.proto.trace.v1.Status"),
    ],
    "Spans": [("spans", 1, _T.TYPE_MESSAGE, REPEATED, f".{_PACKAGE}.Span")],
}


def _spans_class() -> Any:  # a message class built at run time
    pool = descriptor_pool.Default()
    try:
        descriptor = pool.FindMessageTypeByName(f"{_PACKAGE}.Spans")
    except KeyError:
        dependencies = [module.DESCRIPTOR.name for module in (common_pb2, trace_pb2)]
        pool.Add(file_of("hotrod_backend/clickhouse_tags.proto", _PACKAGE, _MESSAGES, dependencies))
        descriptor = pool.FindMessageTypeByName(f"{_PACKAGE}.Spans")
    return message_factory.GetMessageClass(descriptor)


_Spans = _spans_class()


Tags = tuple[list[str], list[str]]  # (keys, texts), one entry per text


@dataclass(slots=True)
class BatchTags:
    """The tags of a batch's spans as flat lists: span i's are ``keys[offsets[i]:offsets[i + 1]]``.

    The layout of an Arrow list column, so the writer hands the lists over without building one per span.
    """

    offsets: list[int] = field(default_factory=lambda: [0])
    keys: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


def attribute_tags(attributes: Iterable[common_pb2.KeyValue], into: Tags) -> None:
    keys, texts = into
    add_key, add_text = keys.append, texts.append
    for attribute in attributes:
        value = attribute.value
        text = value.string_value
        if text or value.WhichOneof("value") == "string_value":  # most attributes: no oneof lookup
            add_key(attribute.key)
            add_text(text)
        else:
            for rendered in render_value(value):
                add_key(attribute.key)
                add_text(rendered)


def batch_tags(payloads: list[bytes]) -> BatchTags:
    """The tags of each span payload, in order; a payload that does not parse has none."""
    framed = b"".join(b"\n" + varint(len(payload)) + payload for payload in payloads)
    try:
        spans = _Spans.FromString(framed).spans
    except DecodeError:
        spans = [_parsed(payload) for payload in payloads]
    found = BatchTags()
    into = (found.keys, found.texts)
    add_offset = found.offsets.append
    for span in spans:
        if span is not None:
            _add_tags(span, into)
        add_offset(len(found.keys))
    return found


def _parsed(payload: bytes) -> Any:
    try:
        return _Spans.FromString(b"\n" + varint(len(payload)) + payload).spans[0]
    except DecodeError:
        return None


def _add_tags(span: Any, into: Tags) -> None:
    attribute_tags(span.attributes, into)
    for event in span.events:
        attribute_tags(event.attributes, into)
    for link in span.links:
        attribute_tags(link.attributes, into)
    message = span.status.message if span.HasField("status") else ""  # see model.STATUS_UNSET
    if message:
        into[0].append(STATUS_DESCRIPTION)
        into[1].append(message)
