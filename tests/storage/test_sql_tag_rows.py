"""The tag index's rows read from span bytes in place: the same (key, text) pairs as decoding the span.

``TagIndex.rows`` reads short plain values next to their key without
decoding; these tests hold it to what decoding and ``render_value`` give,
for every value type, every level and encodings protobuf would not write
itself (where it must notice and decode).
"""

from __future__ import annotations

import random

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from sqlalchemy.dialects import sqlite

from backend.spans.model import SpanRecord
from backend.storage.matching import render_value
from backend.storage.sql.schema import Tables
from backend.storage.sql.tag_index import TagIndex, TagIndexOptions, tag_hash

KEYS = ["customer", "http.status_code", "ok", "k" * 200]

VALUES = [
    AnyValue(string_value="gold"),
    AnyValue(string_value=""),
    AnyValue(string_value="ünïcødé ✓"),
    AnyValue(string_value="x" * 125),  # the longest string read in place
    AnyValue(string_value="x" * 300),  # decoded
    AnyValue(int_value=0),
    AnyValue(int_value=200),
    AnyValue(int_value=-1),
    AnyValue(int_value=2**63 - 1),
    AnyValue(bool_value=True),
    AnyValue(bool_value=False),
    AnyValue(double_value=2.0),
    AnyValue(bytes_value=b"\x00\x01"),
    AnyValue(array_value=ArrayValue(values=[AnyValue(string_value="a")])),
    AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key="customer", value=AnyValue(string_value="inner"))])),
    AnyValue(),
]


INDEX = TagIndex(TagIndexOptions(tag_whitelist=KEYS), Tables(None, sqlite.dialect()))


def record(payload: bytes) -> SpanRecord:
    return SpanRecord(b"t" * 16, b"s" * 8, b"", "svc", "op", 0, 100, 1, 0, b"p" * 8, payload)


def hashes(payload: bytes) -> set[int]:
    return {row[0] for row in INDEX.rows([record(payload)], [1])}


def expected(span: Span) -> set[int]:
    levels = (span.attributes, *(e.attributes for e in span.events), *(li.attributes for li in span.links))
    return {
        tag_hash(kv.key, text)
        for attributes in levels
        for kv in attributes
        if kv.key in KEYS
        for text in render_value(kv.value)
    }


def test_every_value_type_on_every_level_gives_the_texts_decoding_gives():
    for key in KEYS:
        for value in VALUES:
            span = Span(name="op", attributes=[KeyValue(key="other", value=value), KeyValue(key=key, value=value)])
            span.events.add(name="e").attributes.add(key=key, value=value)
            span.links.add(trace_id=b"l" * 16).attributes.add(key=key, value=value)
            payload = span.SerializeToString()

            assert hashes(payload) == expected(span), (key, value)


def test_a_key_value_with_no_value_before_another_field_2_is_decoded_not_misread():
    # An event whose attribute has no value, then the event's name (field 2, as a value field would be):
    # read in place it would look like customer=gold; its length prefix says otherwise.
    key_value = b"\x0a\x08customer"
    event = b"\x1a" + bytes([len(key_value)]) + key_value + b"\x12\x06\x0a\x04gold"
    payload = b"\x5a" + bytes([len(event)]) + event  # Span.events

    assert hashes(payload) == {tag_hash("customer", "")}
    assert hashes(payload) == expected(Span.FromString(payload))


def test_a_value_written_before_its_key_is_decoded():
    key_value = b"\x12\x06\x0a\x04gold" + b"\x0a\x08customer"
    payload = b"\x4a" + bytes([len(key_value)]) + key_value  # Span.attributes

    assert hashes(payload) == {tag_hash("customer", "gold")}


def test_a_key_inside_another_value_hides_no_real_attribute_after_it():
    # The first match is inside a string value; the real attribute starts within the bytes that match spans.
    decoy = KeyValue(key="note", value=AnyValue(string_value="\x0a\x08customer"))
    span = Span(attributes=[decoy, KeyValue(key="customer", value=AnyValue(string_value="123"))])

    assert tag_hash("customer", "123") in hashes(span.SerializeToString())


def test_a_span_whose_bytes_do_not_decode_gets_no_row_when_it_must_be_decoded():
    span = Span(attributes=[KeyValue(key="customer", value=AnyValue(double_value=1.5))])
    truncated = span.SerializeToString()[:-3]

    assert hashes(truncated) == set()


def test_a_batch_is_indexed_as_its_spans_one_by_one_whatever_their_bytes():
    # Payloads cut from key fields, values and length bytes at random, so that matches run from one span's
    # bytes into the next: searching the joined batch must still find what each span alone gives.
    rand = random.Random(5)
    pieces = [b"\x0a\x08customer", b"\x12\x06\x0a\x04gold", b"\x0a", b"\x08", b"\x0c", b"\x4a", b"cust", b"omer", b"x"]
    for _ in range(300):
        payloads = [b"".join(rand.choice(pieces) for _ in range(rand.randrange(6))) for _ in range(8)]
        records = [record(payload) for payload in payloads]
        one_by_one = [row for r in records for row in INDEX.rows([r], [1])]

        assert sorted(INDEX.rows(records, [1] * len(records))) == sorted(one_by_one), payloads
