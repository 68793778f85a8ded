"""Zipkin v1 spans (``POST /api/v1/spans``, JSON or Thrift) brought to the v2 shape that ``translate`` reads.

v1 says where a span ran through its annotations, as Zipkin's own v1 → v2
converter reads them: ``cs``/``cr`` make it a client span, ``sr``/``ss`` a
server span, ``ms``/``mr`` producer and consumer, and their endpoint is the
local one; the binary annotation ``sa`` (``ca``, ``ma``) is the remote
endpoint, the other binary annotations are tags, the other annotations
events.  A span with no timestamp takes it, and its duration, from its core
annotations.  A span that carries both sides (a v1 "shared" span) stays one
span: its client side, with the server's endpoint as the remote one, since
OTLP has a single span per id.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import struct
from collections.abc import Callable
from typing import Any

from thriftpy2.protocol import binary

from backend.receivers.idl import zipkin_core
from backend.receivers.jaeger.thrift_limits import StrictBuffer
from backend.spans.otlp import InvalidRequest

_SIDES = (("cs", "cr", "CLIENT", "sa"), ("sr", "ss", "SERVER", "ca"), ("ms", "ws", "PRODUCER", "ma"))
_CONSUMER = ("wr", "mr", "CONSUMER", "ma")
_CORE = {"cs", "cr", "sr", "ss", "ms", "mr", "ws", "wr"}
_ADDRESSES = {"sa", "ca", "ma"}
_THRIFT_VALUES: dict[int, Callable[[bytes], str]] = {  # AnnotationType → how its bytes read as text
    0: lambda raw: "true" if raw[:1] == b"\x01" else "false",
    1: lambda raw: base64.b64encode(raw).decode(),
    2: lambda raw: str(struct.unpack(">h", raw)[0]),
    3: lambda raw: str(struct.unpack(">i", raw)[0]),
    4: lambda raw: str(struct.unpack(">q", raw)[0]),
    5: lambda raw: repr(struct.unpack(">d", raw)[0]),
    6: lambda raw: raw.decode("utf-8", "replace"),
}


def spans_from_json(body: bytes) -> list[dict[str, Any]]:
    try:
        spans = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InvalidRequest(f"body is not valid JSON: {exc}") from exc
    if not isinstance(spans, list) or not all(isinstance(span, dict) for span in spans):
        raise InvalidRequest("body must be a JSON array of Zipkin v1 spans")
    return [to_v2(span, index) for index, span in enumerate(spans)]


def spans_from_thrift(body: bytes) -> list[dict[str, Any]]:
    """A binary-protocol ``list<Span>`` of zipkinCore.thrift."""
    model = zipkin_core()
    buffer = StrictBuffer(body)
    protocol: Any = binary.TBinaryProtocol  # untyped; made strict by thrift_limits' import
    reader = protocol(buffer, decode_response=False)
    try:
        element_type, size = reader_list_begin(buffer)
        if element_type != 12:  # TType.STRUCT
            raise InvalidRequest(f"body must be a Thrift list of Zipkin spans, not of type {element_type}")
        spans = []
        for _ in range(size):
            span = model.Span()
            reader.read_struct(span)
            spans.append(span)
    except InvalidRequest:
        raise
    except Exception as exc:  # thriftpy2 raises many kinds on malformed input
        raise InvalidRequest(f"body is not a valid Thrift list of Zipkin v1 spans: {exc!r}") from exc
    return [to_v2(_thrift_to_json(span), index) for index, span in enumerate(spans)]


def reader_list_begin(buffer: StrictBuffer) -> tuple[int, int]:
    """A list header's (element type, size); thriftpy2's binary reader, untyped, made strict by ``thrift_limits``."""
    begin: Any = binary.read_list_begin
    element_type, size = begin(buffer)
    return int(element_type), int(size)


def _hex(value: int | None, width: int = 16) -> str:
    return "" if value is None else format(value & (2**64 - 1), f"0{width}x")


def _thrift_endpoint(host: Any) -> dict[str, Any] | None:
    if host is None:
        return None
    endpoint: dict[str, Any] = {"serviceName": _text(host.service_name)}
    if host.ipv4:
        endpoint["ipv4"] = str(ipaddress.IPv4Address(host.ipv4 & 0xFFFFFFFF))
    if host.ipv6 and len(host.ipv6) == 16:
        endpoint["ipv6"] = str(ipaddress.IPv6Address(host.ipv6))
    if host.port:
        endpoint["port"] = host.port & 0xFFFF
    return endpoint


def _text(value: bytes | str | None) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value or ""


def _thrift_to_json(span: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "traceId": (_hex(span.trace_id_high) if span.trace_id_high else "") + _hex(span.trace_id),
        "id": _hex(span.id),
        "name": _text(span.name),
        "annotations": [
            {"timestamp": a.timestamp, "value": _text(a.value), "endpoint": _thrift_endpoint(a.host)}
            for a in span.annotations or ()
        ],
        "binaryAnnotations": [
            {
                "key": _text(b.key),
                "value": _THRIFT_VALUES.get(b.annotation_type, _THRIFT_VALUES[6])(b.value or b""),
                "endpoint": _thrift_endpoint(b.host),
            }
            for b in span.binary_annotations or ()
        ],
    }
    if span.parent_id is not None:
        document["parentId"] = _hex(span.parent_id)
    for key in ("timestamp", "duration"):
        if getattr(span, key):
            document[key] = getattr(span, key)
    return document


def _list(span: dict[str, Any], key: str, index: int) -> list[dict[str, Any]]:
    items = span.get(key) or []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise InvalidRequest(f"span {index}: {key} must be an array of objects")
    return items


def _tag_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def to_v2(span: dict[str, Any], index: int) -> dict[str, Any]:
    """One v1 span as a v2 span (``translate`` checks ids and times)."""
    annotations = _list(span, "annotations", index)
    binary = _list(span, "binaryAnnotations", index)
    core = {a["value"]: a for a in annotations if isinstance(a.get("value"), str) and a["value"] in _CORE}
    converted: dict[str, Any] = {key: span[key] for key in ("traceId", "id", "parentId", "name") if key in span}
    begin = end = None
    address_key = ""
    for begin_key, end_key, kind, address in (*_SIDES, _CONSUMER):
        if begin_key in core or end_key in core:
            begin, end, converted["kind"], address_key = core.get(begin_key), core.get(end_key), kind, address
            break
    local = (begin or end or {}).get("endpoint") or next(
        (item["endpoint"] for item in (*annotations, *binary) if item.get("endpoint")), None
    )
    if local:
        converted["localEndpoint"] = local
    remote = next((b.get("endpoint") for b in binary if b.get("key") == address_key and b.get("endpoint")), None)
    if remote is None and converted.get("kind") == "CLIENT" and "sr" in core:
        remote = core["sr"].get("endpoint")  # a shared span: the server side is the client's remote end
    if remote:
        converted["remoteEndpoint"] = remote
    timestamp, duration = span.get("timestamp"), span.get("duration")
    if timestamp is None and begin is not None:
        timestamp = begin.get("timestamp")
    if duration is None and begin is not None and end is not None:
        begun, ended = begin.get("timestamp"), end.get("timestamp")
        if isinstance(begun, int) and isinstance(ended, int) and ended >= begun:
            duration = ended - begun
    if timestamp is not None:
        converted["timestamp"] = timestamp
    if duration is not None:
        converted["duration"] = duration
    converted["annotations"] = [
        {"timestamp": a.get("timestamp", 0), "value": a.get("value", "")}
        for a in annotations
        if not any(a is used for used in core.values())
    ]
    converted["tags"] = {
        str(b.get("key")): _tag_text(b.get("value")) for b in binary if str(b.get("key")) not in _ADDRESSES
    }
    return converted
