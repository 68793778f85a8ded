"""Where the ``redis`` plug-in keeps things, and how a span is packed into a Redis value.

Keys (``P`` is the configured prefix, ``N`` the number of index shards):

- ``P:trace:{<trace id hex>}`` a hash per trace: field ``s<span id>`` holds a
  packed span, field ``p<process id>`` the process it refers to.  The braces
  are a Redis Cluster hash tag, so a trace (spans and processes) lives in one
  slot and is read with one ``HGETALL``, and it expires as a whole by TTL.
- ``P:idx:all`` and ``P:idx:svc:<service>`` sorted sets, one member per span,
  scored by start time in microseconds (exact in a double, unlike
  nanoseconds).  A member carries every indexed field, so searches by
  service, operation, kind, time and duration read the index alone and fetch
  spans only to test tags.  With ``N`` > 1 each is ``N`` keys
  (``P:idx:all:{<tag>}``, tags from ``client.slot_tags``, spread over the
  cluster's slots); a span goes to shard ``trace id mod N``, so no one key
  or node takes every write, and a search merges the shards.
- ``P:services`` a set; ``P:ops:<service>`` a set of ``<kind>:<name>``.
"""

from __future__ import annotations

import struct

from backend.spans.model import SpanRecord
from backend.storage.redis.client import spread_keys

_RECORD = struct.Struct(">qqBBHHHH")  # start, duration, kind, status, len(parent, service, name, process id)
_INDEX = struct.Struct(">16s8sqqBBH")  # trace id, span id, start, duration, kind, status, len(service)
SPAN_FIELD = b"s"
PROCESS_FIELD = b"p"


class Keys:
    def __init__(self, prefix: str, shards: int) -> None:
        self.prefix = prefix
        self.shards = shards
        self.services = f"{prefix}:services"
        self.index_all = spread_keys(f"{prefix}:idx:all", shards)

    def trace(self, trace_id: bytes) -> str:
        return f"{self.prefix}:trace:{{{trace_id.hex()}}}"

    def index(self, service: str | None) -> list[str]:
        """The shards of a service's index, or of the all-spans one (``None``)."""
        return spread_keys(f"{self.prefix}:idx:svc:{service}", self.shards) if service else self.index_all

    def shard(self, trace_id: bytes) -> int:
        """Which index shard a trace's spans go to (trace ids are random: their low bytes spread evenly)."""
        return int.from_bytes(trace_id[-4:], "big") % self.shards

    def operations(self, service: str) -> str:
        return f"{self.prefix}:ops:{service}"


def score(start_ns: int) -> int:
    """Index score: microseconds, so that every score is an exact double."""
    return start_ns // 1000


def pack_record(record: SpanRecord) -> bytes:
    service = record.service.encode()
    name = record.name.encode()
    header = _RECORD.pack(
        record.start_ns,
        record.duration_ns,
        record.kind,
        record.status_code,
        len(record.parent_span_id),
        len(service),
        len(name),
        len(record.process_id),
    )
    return b"".join((header, record.parent_span_id, service, name, record.process_id, record.payload))


# Run on one trace hash: for each span, its field name and its packed record up to the end of its
# name (no process id, no payload), so a summary reads ~60 bytes a span instead of every payload
# (one key per call: fine on Redis Cluster).  The lengths sit at bytes 19-24 of ``_RECORD``.
SPAN_HEADERS_SCRIPT = """
local fields = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #fields, 2 do
  if string.sub(fields[i], 1, 1) == 's' then
    local v = fields[i + 1]
    local b = {string.byte(v, 19, 24)}
    local used = 26 + (b[1] * 256 + b[2]) + (b[3] * 256 + b[4]) + (b[5] * 256 + b[6])
    out[#out + 1] = fields[i]
    out[#out + 1] = string.sub(v, 1, used)
  end
end
return out
"""


def span_headers(trace_id: bytes, answer: list[bytes]) -> list[SpanRecord]:
    """``SPAN_HEADERS_SCRIPT``'s answer as records with their indexed fields (process id and payload empty)."""
    return [
        unpack_record(trace_id, field[len(SPAN_FIELD) :], value)
        for field, value in zip(answer[::2], answer[1::2], strict=True)
    ]


def unpack_record(trace_id: bytes, span_id: bytes, value: bytes) -> SpanRecord:
    start, duration, kind, status, parent_len, service_len, name_len, process_len = _RECORD.unpack_from(value)
    at = _RECORD.size
    parent = value[at : at + parent_len]
    at += parent_len
    service = value[at : at + service_len].decode()
    at += service_len
    name = value[at : at + name_len].decode()
    at += name_len
    process_id = value[at : at + process_len]
    payload = value[at + process_len :]
    return SpanRecord(trace_id, span_id, parent, service, name, kind, start, duration, status, process_id, payload)


def pack_index_entry(record: SpanRecord) -> bytes:
    service = record.service.encode()
    header = _INDEX.pack(
        record.trace_id,
        record.span_id,
        record.start_ns,
        record.duration_ns,
        record.kind,
        record.status_code,
        len(service),
    )
    return b"".join((header, service, record.name.encode()))


def unpack_index_entry(member: bytes) -> SpanRecord:
    """A record with the indexed fields only (no parent, process or payload): enough to filter on."""
    trace_id, span_id, start, duration, kind, status, service_len = _INDEX.unpack_from(member)
    at = _INDEX.size
    service = member[at : at + service_len].decode()
    name = member[at + service_len :].decode()
    return SpanRecord(trace_id, span_id, b"", service, name, kind, start, duration, status, b"", b"")
