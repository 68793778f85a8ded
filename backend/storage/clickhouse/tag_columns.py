"""A batch's ``tag_keys`` / ``tag_values`` columns built in bulk, with no Python work per attribute.

``tags.batch_tags`` walks every attribute in Python (~1 µs each, about 11 µs
a tracegen span: most of the writer's CPU).  Here the batch's payloads are
joined into one buffer that parses as a single message declaring the span's
attributes, events, links and status as ``repeated bytes``: protobuf
appends every span's raw ``KeyValue`` bytes to one list in one C call.  A
marker entry after each span (``b"\\xff"``, which no span that passed the
receivers' full parse can hold: it is a truncated field tag) keeps the spans
apart.  The common attribute, a string of at most 125 bytes under a key of
under 128 bytes, always encodes as ``0a klen key 12 vlen 0a slen text``: numpy
checks that shape on every entry at once and cuts keys and texts out of the
buffer by index arithmetic.

A span with any other attribute (a number, a long string, …), or with
events, links or a status message, goes to ``tags.batch_tags`` instead; its
row is placed after the bulk ones (a ClickHouse insert has no row order, the
table sorts it), which ``TagColumns.order`` tells the writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import DecodeError
from numpy.typing import NDArray
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from backend.spans.proto_tables import REPEATED, Field, FieldType, file_of
from backend.storage.clickhouse.tags import batch_tags

_PACKAGE = "hotrod_backend.clickhouse_tag_columns"
_BYTES = FieldType.TYPE_BYTES
# The span's fields that can hold tag texts, by their numbers in OTLP's Span, each read as raw entries.
_FIELDS = {"attributes": 9, "events": 11, "links": 13, "status": 15}
_MARK = b"\xff"
_AFTER_EACH = b"".join(bytes([number << 3 | 2, len(_MARK)]) + _MARK for number in _FIELDS.values())
_KEY, _VALUE, _STRING = 0x0A, 0x12, 0x0A  # KeyValue.key, KeyValue.value, AnyValue.string_value tags
_Index = NDArray[np.int64]


def _flat_class() -> Any:  # a message class built at run time
    pool = descriptor_pool.Default()
    name = f"{_PACKAGE}.Flat"
    try:
        descriptor = pool.FindMessageTypeByName(name)
    except KeyError:
        fields: list[Field] = [(field, number, _BYTES, REPEATED, "") for field, number in _FIELDS.items()]
        pool.Add(file_of("hotrod_backend/clickhouse_tag_columns.proto", _PACKAGE, {"Flat": fields}))
        descriptor = pool.FindMessageTypeByName(name)
    return message_factory.GetMessageClass(descriptor)


_Flat = _flat_class()


@dataclass(frozen=True)
class TagColumns:
    keys: pa.ListArray
    texts: pa.ListArray
    order: _Index | None  # the spans' row order these lists follow; None: as given


def tag_columns(payloads: list[bytes]) -> TagColumns:
    """The tags of each span payload (as ``tags.batch_tags`` finds them), as two Arrow list columns."""
    count = len(payloads)
    try:
        flat = _Flat.FromString(_AFTER_EACH.join(payloads) + _AFTER_EACH)
    except DecodeError:
        return _one_by_one(payloads)
    entries = pa.array(flat.attributes, pa.binary())
    attribute_span, is_attribute = _spans_of(entries, count)
    if attribute_span is None:
        return _one_by_one(payloads)
    data = np.frombuffer(entries.buffers()[2] or b"", np.uint8)
    offsets = np.frombuffer(entries.buffers()[1], np.int32)[: len(entries) + 1].astype(np.int64)
    starts, ends = offsets[:-1][is_attribute], offsets[1:][is_attribute]
    attribute_span = attribute_span[is_attribute]
    key_start, key_length, text_start, text_length, plain = _plain_strings(data, starts, ends)
    slow = np.bincount(attribute_span[~plain], minlength=count) > 0
    slow |= _has_entries(flat.events, count) | _has_entries(flat.links, count) | _has_message(flat.status, count)
    fast = ~slow[attribute_span]
    per_span = np.bincount(attribute_span[fast], minlength=count)
    fast_spans = np.flatnonzero(~slow)
    list_offsets = np.zeros(len(fast_spans) + 1, np.int32)
    np.cumsum(per_span[fast_spans], out=list_offsets[1:])
    keys = _cut(data, key_start[fast], key_length[fast])
    texts = _cut(data, text_start[fast], text_length[fast])
    slow_spans = np.flatnonzero(slow)
    if not len(slow_spans):
        return TagColumns(_lists(list_offsets, keys), _lists(list_offsets, texts), None)
    rest = batch_tags([payloads[index] for index in slow_spans])
    rest_offsets = np.asarray(rest.offsets[1:], np.int32) + list_offsets[-1]
    all_offsets = np.concatenate([list_offsets, rest_offsets])
    keys = pa.concat_arrays([keys, pa.array(rest.keys, pa.string())])
    texts = pa.concat_arrays([texts, pa.array(rest.texts, pa.string())])
    order = np.concatenate([fast_spans, slow_spans])
    return TagColumns(_lists(all_offsets, keys), _lists(all_offsets, texts), order)


def _spans_of(entries: pa.BinaryArray, count: int) -> tuple[_Index | None, NDArray[np.bool_]]:
    """Each entry's span (by the markers before it) and which entries are not markers; None if markers are off."""
    is_mark = pc.equal(entries, pa.scalar(_MARK, pa.binary())).to_numpy(zero_copy_only=False)
    if int(is_mark.sum()) != count or (len(is_mark) and not is_mark[-1]):
        return None, is_mark
    span = np.cumsum(is_mark, dtype=np.int64) - is_mark
    return span, ~is_mark


def _has_entries(raw: Any, count: int) -> NDArray[np.bool_]:
    """Spans with at least one entry (event, link) besides their marker."""
    if len(raw) == count:
        return np.zeros(count, np.bool_)
    entries = pa.array(raw, pa.binary())
    span, is_entry = _spans_of(entries, count)
    if span is None:
        return np.ones(count, np.bool_)
    return np.bincount(span[is_entry], minlength=count) > 0


def _has_message(raw: Any, count: int) -> NDArray[np.bool_]:
    """Spans whose status has a message (few: a status is mostly a code alone)."""
    found = np.zeros(count, np.bool_)
    span = 0
    for entry in raw if len(raw) != count else ():
        if entry == _MARK:
            span += 1
        elif Status.FromString(entry).message:
            found[span] = True
    return found


def _plain_strings(data: NDArray[np.uint8], starts: _Index, ends: _Index) -> tuple[_Index, ...]:
    """Where key and text lie in each entry, and whether the entry has the plain short-string shape."""
    padded = np.concatenate([data, np.zeros(8, np.uint8)])
    last = len(padded) - 1

    def at(index: _Index) -> _Index:
        return padded[np.minimum(index, last)].astype(np.int64)

    key_length = at(starts + 1)
    value_at = starts + 2 + key_length
    value_length = at(value_at + 1)
    text_length = at(value_at + 3)
    plain = (
        (at(starts) == _KEY)
        & (key_length < 0x80)
        & (at(value_at) == _VALUE)
        & (value_length < 0x80)
        & (at(value_at + 2) == _STRING)
        & (text_length < 0x80)
        & (value_length == text_length + 2)
        & (value_at + 4 + text_length == ends)
    )
    return starts + 2, key_length, value_at + 4, text_length, plain


def _cut(data: NDArray[np.uint8], starts: _Index, lengths: _Index) -> pa.StringArray:
    """The byte ranges as one string array: a gather from the entries' buffer.

    The gather index steps by one within a range and jumps at each range's start: a cumulative sum of ones
    with the jumps written in (one int32 array the size of the texts, no per-range repeat).
    """
    offsets = np.zeros(len(starts) + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    steps = np.ones(int(offsets[-1]), np.int32)
    nonempty = lengths > 0
    firsts, begins = offsets[:-1][nonempty], starts[nonempty].astype(np.int32)
    if len(begins):
        # at a range's first index the step goes from the last range's end to this range's start
        steps[firsts] = np.diff(begins, prepend=np.int32(0)) - np.diff(firsts, prepend=np.int32(0)) + 1
    index = np.cumsum(steps, dtype=np.int32) - 1
    return pa.StringArray.from_buffers(len(starts), pa.py_buffer(offsets), pa.py_buffer(data[index]))


def _lists(offsets: NDArray[np.int32], values: pa.Array) -> pa.ListArray:
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)


def _one_by_one(payloads: list[bytes]) -> TagColumns:
    tags = batch_tags(payloads)
    offsets = np.asarray(tags.offsets, np.int32)
    return TagColumns(
        _lists(offsets, pa.array(tags.keys, pa.string())), _lists(offsets, pa.array(tags.texts, pa.string())), None
    )
