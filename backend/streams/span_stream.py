"""A ``SpanBatch`` as one Redis Streams entry: what the ``redis_streams`` exporter writes and receiver reads.

The entry's single field ``b`` holds the processes and then the spans, each
length-prefixed; a span is packed as the redis storage packs it (indexed
fields, parent, process id, then its own OTLP bytes), so nothing is decoded
or re-encoded on the way through the stream.
"""

from __future__ import annotations

import struct

from backend.spans.model import SpanBatch
from backend.storage.redis.layout import pack_record, unpack_record

FIELD = b"b"
_COUNTS = struct.Struct(">II")
_LENGTHS = struct.Struct(">II")
_SPAN = struct.Struct(">16s8sI")


class BadEntry(ValueError):
    """A stream entry that is not an encoded batch (written by something else, or cut short)."""


def encode(batch: SpanBatch) -> bytes:
    parts = [_COUNTS.pack(len(batch.processes), len(batch.spans))]
    for process_id, blob in batch.processes.items():
        parts += [_LENGTHS.pack(len(process_id), len(blob)), process_id, blob]
    for record in batch.spans:
        packed = pack_record(record)
        parts += [_SPAN.pack(record.trace_id, record.span_id, len(packed)), packed]
    return b"".join(parts)


def decode(data: bytes) -> SpanBatch:
    try:
        processes, spans = _COUNTS.unpack_from(data)
        at = _COUNTS.size
        batch = SpanBatch()
        for _ in range(processes):
            id_len, blob_len = _LENGTHS.unpack_from(data, at)
            at += _LENGTHS.size
            batch.processes[data[at : at + id_len]] = data[at + id_len : at + id_len + blob_len]
            at += id_len + blob_len
        for _ in range(spans):
            trace_id, span_id, size = _SPAN.unpack_from(data, at)
            at += _SPAN.size
            if at + size > len(data):
                raise BadEntry("a span runs past the end of the entry")
            batch.spans.append(unpack_record(trace_id, span_id, data[at : at + size]))
            at += size
    except (struct.error, UnicodeDecodeError) as exc:
        raise BadEntry(f"not an encoded span batch: {exc}") from exc
    if at != len(data):
        raise BadEntry(f"{len(data) - at} byte(s) left after the batch")
    return batch
