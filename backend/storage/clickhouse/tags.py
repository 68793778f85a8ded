"""Searchable attribute texts of spans, pulled out at write time so tag search is a column scan.

Each span gets two parallel arrays, keys and texts: its own attributes, its
events' attributes and its status message (as ``otel.status_description``),
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
bytes.  The Python loop over the attributes is what remains; the ClickHouse
benchmark measures it (``python -m benchmarks.clickhouse_tags``).
"""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import DecodeError
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from backend.spans.proto_tables import OPTIONAL, REPEATED, Field, FieldType, file_of
from backend.storage.matching import render_value

STATUS_DESCRIPTION = "otel.status_description"
_PACKAGE = "hotrod_backend.clickhouse_tags"
_T = FieldType
_KEY_VALUE = ".opentelemetry.proto.common.v1.KeyValue"
_MESSAGES: dict[str, list[Field]] = {
    "Event": [("attributes", 3, _T.TYPE_MESSAGE, REPEATED, _KEY_VALUE)],
    "Span": [
        ("attributes", 9, _T.TYPE_MESSAGE, REPEATED, _KEY_VALUE),
        ("events", 11, _T.TYPE_MESSAGE, REPEATED, f".{_PACKAGE}.Event"),
        ("status", 15, _T.TYPE_MESSAGE, OPTIONAL, ".opentelemetry.proto.trace.v1.Status"),
    ],
    "Spans": [("spans", 1, _T.TYPE_MESSAGE, REPEATED, f".{_PACKAGE}.Span")],
}


def _spans_class() -> type:
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


def attribute_tags(attributes: Iterable[common_pb2.KeyValue], into: Tags) -> None:
    keys, texts = into
    for attribute in attributes:
        value = attribute.value
        if value.WhichOneof("value") == "string_value":
            keys.append(attribute.key)
            texts.append(value.string_value)
        else:
            for text in render_value(value):
                keys.append(attribute.key)
                texts.append(text)


def batch_tags(payloads: list[bytes]) -> list[Tags]:
    """The tags of each span payload, in order; a payload that does not parse has none."""
    framed = b"".join(b"\n" + _varint(len(payload)) + payload for payload in payloads)
    try:
        spans = _Spans.FromString(framed).spans
    except DecodeError:
        return [span_tags(payload) for payload in payloads]
    return [_tags_of(span) for span in spans]


def span_tags(payload: bytes) -> Tags:
    try:
        return _tags_of(_Spans.FromString(b"\n" + _varint(len(payload)) + payload).spans[0])
    except DecodeError:
        return [], []


def _tags_of(span) -> Tags:  # noqa: ANN001 - a message class built at run time
    found: Tags = ([], [])
    attribute_tags(span.attributes, found)
    for event in span.events:
        attribute_tags(event.attributes, found)
    message = span.status.message
    if message:
        found[0].append(STATUS_DESCRIPTION)
        found[1].append(message)
    return found


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
