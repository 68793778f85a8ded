"""A batch's ``tag_keys`` / ``tag_values`` columns built in bulk, with no Python work per attribute or span.

``tags.batch_tags`` walks every attribute in Python (~1 µs each, about 11 µs
a tracegen span: most of the writer's CPU).  Here the batch's payloads are
joined into one buffer and read as protobuf's wire format by numpy, every
span at once, one top-level field a step (``_walk``): a tracegen span has
about 20 fields, so ~20 steps of array arithmetic over the batch find every
attribute entry (field 9) with no protobuf parse and no Python object per
entry.  The common attribute, a string of at most 125 bytes under a key of
under 128 bytes, always encodes as ``0a klen key 12 vlen 0a slen text``:
numpy checks that shape on every entry at once, and the keys and texts are
taken out of the joined buffer by Arrow (``_cut``).

A span with any other attribute (a number, a long string, …), with events,
links or a status message, with a field the walk does not expect (a group,
a tag or length of more bytes than usual, a field running past the span's
end) or with more than ``_MAX_FIELDS`` fields goes to ``tags.batch_tags``
instead, which parses it with protobuf; its row is placed after the bulk
ones (a ClickHouse insert has no row order, the table sorts it), which
``TagColumns.order`` tells the writer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from backend.storage.clickhouse.tags import batch_tags

# OTLP Span's fields the walk looks at, by number: attributes; events and links (their attributes are tags too,
# so a span with any goes span by span); status (span by span when it has more than a code: a message).
_ATTRIBUTES, _EVENTS, _LINKS, _STATUS = 9, 11, 13, 15
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5  # wire types; 3 and 4 (groups) are not in OTLP
_STATUS_CODE = 3 << 3 | _VARINT  # Status.code's tag: a status of this field alone has no message
_KEY, _VALUE, _STRING = 0x0A, 0x12, 0x0A  # KeyValue.key, KeyValue.value, AnyValue.string_value tags
_VARINT_BYTES = 10  # the longest varint
_LENGTH_BYTES = 4  # a length of up to 4 varint bytes (256 MiB), more than a span holds
_PADDING = bytes(2 * _VARINT_BYTES)
_MAX_FIELDS = 64  # steps of the walk; a span with more fields goes span by span
_Index = NDArray[np.int64]
_ATTRIBUTES_TAG, _STATUS_TAG = _ATTRIBUTES << 3 | _LENGTH, _STATUS << 3 | _LENGTH


def _tag_tables() -> tuple[_Index, NDArray[np.bool_], NDArray[np.bool_]]:
    """By tag (one or two bytes): the field's fixed size (-1: the span goes span by span), whether a varint
    follows the tag, whether that varint is a length of bytes that follow."""
    tags = np.arange(1 << 14)
    wire, field = tags & 7, tags >> 3
    fixed = np.select([wire == _FIXED64, wire == _FIXED32, (wire == _VARINT) | (wire == _LENGTH)], [8, 4, 0], -1)
    odd = (field == 0) | (field == _EVENTS) | (field == _LINKS) | ((field == _ATTRIBUTES) & (wire != _LENGTH))
    fixed[odd] = -1
    return fixed, (wire == _VARINT) | (wire == _LENGTH), wire == _LENGTH


_FIXED, _READS_VARINT, _IS_LENGTH = _tag_tables()


@dataclass(frozen=True)
class TagColumns:
    keys: pa.ListArray
    texts: pa.ListArray
    order: _Index | None  # the spans' row order these lists follow; None: as given


def tag_columns(payloads: list[bytes]) -> TagColumns:
    """The tags of each span payload (as ``tags.batch_tags`` finds them), as two Arrow list columns."""
    count = len(payloads)
    joined = b"".join([*payloads, _PADDING])  # the walk reads a few bytes past a span's end
    padded = np.frombuffer(joined, np.uint8)
    lengths = np.fromiter(map(len, payloads), np.int64, count)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    entry_start, entry_end, entry_span, slow = _walk(padded, starts, ends)
    key_start, key_length, text_start, text_length, plain = _plain_strings(padded, entry_start, entry_end)
    slow[entry_span[~plain]] = True
    fast = ~slow[entry_span]
    per_span = np.bincount(entry_span[fast], minlength=count)
    fast_spans = np.flatnonzero(~slow)
    list_offsets = np.zeros(len(fast_spans) + 1, np.int32)
    np.cumsum(per_span[fast_spans], out=list_offsets[1:])
    keys, texts = _cut(joined, key_start[fast], key_length[fast], text_start[fast], text_length[fast])
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


def _walk(padded: NDArray[np.uint8], starts: _Index, ends: _Index) -> tuple[_Index, _Index, _Index, NDArray[np.bool_]]:
    """Every span's attribute entries (start, end, span, in the buffer's order), and which spans go span by span.

    Each step reads the next field of every span not yet done: its tag (one byte, or two for fields 16 to
    2,047), then by its wire type a varint, 8 or 4 bytes, or a length and that many bytes.
    """
    count = len(starts)
    slow = np.zeros(count, np.bool_)
    span = np.flatnonzero(starts < ends)
    at, end = starts[span], ends[span]
    found: list[tuple[_Index, _Index, _Index]] = []
    for _ in range(_MAX_FIELDS):
        if not len(span):
            break
        tag = padded[at].astype(np.int64)
        two = tag >= 0x80
        if two.any():
            second = padded[at + 1].astype(np.int64)
            slow[span[two & (second >= 0x80)]] = True
            tag = np.where(two, (tag & 0x7F) | ((second & 0x7F) << 7), tag)  # a longer tag: slow, looked up in range
        body = at + 1 + two
        varint_bytes, value = _varints(padded, body)
        fixed, reads_varint, is_length = _FIXED[tag], _READS_VARINT[tag], _IS_LENGTH[tag]
        after = body + fixed + np.where(reads_varint, varint_bytes, 0) + np.where(is_length, value, 0)
        odd = slow[span] | (fixed < 0) | (reads_varint & (varint_bytes < 0)) | (is_length & (value < 0)) | (after > end)
        status = np.flatnonzero(tag == _STATUS_TAG)
        if len(status):
            odd[status] |= ~_code_alone(padded, body[status] + varint_bytes[status], value[status])
        slow[span[odd]] = True
        entry = (tag == _ATTRIBUTES_TAG) & ~odd
        found.append((body[entry] + varint_bytes[entry], after[entry], span[entry]))
        going = ~odd & (after < end)
        span, at, end = span[going], after[going], end[going]
    slow[span] = True  # more fields than the walk takes
    if not found:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty, slow
    entry_start, entry_end, entry_span = (np.concatenate(column) for column in zip(*found, strict=True))
    ordered = np.argsort(entry_start, kind="stable")  # each step's entries are in order: a merge of sorted runs
    return entry_start[ordered], entry_end[ordered], entry_span[ordered], slow


def _varints(padded: NDArray[np.uint8], at: _Index) -> tuple[_Index, _Index]:
    """The bytes and the value of the varint at each of ``at``; a varint of more than ``_LENGTH_BYTES`` bytes (a
    length past 256 MiB, a large or negative number: never a length here) has value -1.

    Most are one byte (lengths under 128, small numbers): the few longer ones are read a byte a step.
    """
    byte = padded[at].astype(np.int64)
    value = byte & 0x7F
    size = np.ones(len(at), np.int64)
    going = np.flatnonzero(byte >= 0x80)
    for shift in range(7, 7 * _VARINT_BYTES, 7):
        if not len(going):
            break
        byte = padded[at[going] + size[going]].astype(np.int64)
        if shift < 7 * _LENGTH_BYTES:
            value[going] |= (byte & 0x7F) << shift
        size[going] += 1
        going = going[byte >= 0x80]
    value[size > _LENGTH_BYTES] = -1
    size[going] = -1  # runs past ten bytes: not a varint
    return size, value


def _code_alone(padded: NDArray[np.uint8], content: _Index, length: _Index) -> NDArray[np.bool_]:
    """Whether each status is empty or its code alone (in one byte), so it holds no message."""
    code_only: NDArray[np.bool_] = (length == 2) & (padded[content] == _STATUS_CODE) & (padded[content + 1] < 0x80)
    alone: NDArray[np.bool_] = (length == 0) | code_only
    return alone


def _plain_strings(padded: NDArray[np.uint8], starts: _Index, ends: _Index) -> tuple[_Index, ...]:
    """Where key and text lie in each entry, and whether the entry has the plain short-string shape."""
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


def _cut(
    joined: bytes, key_start: _Index, key_length: _Index, text_start: _Index, text_length: _Index
) -> tuple[pa.StringArray, pa.StringArray]:
    """The keys and the texts as two string arrays, copied out of the joined payloads by Arrow.

    One string array over the whole buffer (not copied) whose elements are, entry after entry, the key, the
    bytes up to the text, the text and the bytes up to the next key: its offsets are each entry's four bounds
    in turn.  Arrow's ``take`` copies every fourth element from the first, and from the third.
    """
    count = len(key_start)
    if not count:
        empty = pa.array([], pa.string())
        return empty, empty
    bounds = np.stack([key_start, key_start + key_length, text_start, text_start + text_length], axis=1)
    pieces = pa.StringArray.from_buffers(
        4 * count - 1, pa.py_buffer(bounds.astype(np.int32).ravel()), pa.py_buffer(joined)
    )
    keys = np.arange(0, 4 * count, 4)
    return pc.take(pieces, keys), pc.take(pieces, keys + 2)


def _lists(offsets: NDArray[np.int32], values: pa.Array) -> pa.ListArray:
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)
