"""A Jaeger client's side of the wire: ``Batch`` objects built with thriftpy2, sent over UDP or HTTP."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import requests
from thriftpy2.protocol import TBinaryProtocol, TCompactProtocol
from thriftpy2.thrift import TMessageType
from thriftpy2.transport import TMemoryBuffer

from backend.receivers.idl import agent, jaeger

PROTOCOLS = {"compact": TCompactProtocol, "binary": TBinaryProtocol}


def signed(value: int) -> int:
    """An unsigned 64-bit id as Thrift's signed i64."""
    return value - (1 << 64) if value >= 1 << 63 else value


def random_id() -> int:
    return signed(int.from_bytes(os.urandom(8), "big"))


def tag(key: str, value: Any) -> Any:
    model = jaeger()
    types = model.TagType
    if isinstance(value, bool):
        return model.Tag(key=key, vType=types.BOOL, vBool=value)
    if isinstance(value, int):
        return model.Tag(key=key, vType=types.LONG, vLong=value)
    if isinstance(value, float):
        return model.Tag(key=key, vType=types.DOUBLE, vDouble=value)
    return model.Tag(key=key, vType=types.STRING, vStr=str(value))


def span(trace: tuple[int, int], name: str, parent: int = 0, tags: dict[str, Any] | None = None, **fields: Any) -> Any:
    """A Jaeger span of ``trace`` (high, low), started now unless ``startTime`` (µs) is given."""
    high, low = trace
    fields.setdefault("startTime", time.time_ns() // 1000)
    fields.setdefault("duration", 1500)
    return jaeger().Span(
        traceIdHigh=high,
        traceIdLow=low,
        spanId=fields.pop("spanId", random_id()),
        parentSpanId=parent,
        operationName=name,
        flags=1,
        tags=[tag(k, v) for k, v in (tags or {}).items()],
        **fields,
    )


def batch(service: str, spans: list[Any], process_tags: dict[str, Any] | None = None) -> Any:
    model = jaeger()
    process = model.Process(serviceName=service, tags=[tag(k, v) for k, v in (process_tags or {}).items()])
    return model.Batch(process=process, spans=spans)


def datagram(thrift_batch: Any, protocol: str) -> bytes:
    """What a Jaeger client's UDP sender puts in one datagram: a oneway ``emitBatch`` message."""
    buffer = TMemoryBuffer()
    writer = PROTOCOLS[protocol](buffer)
    writer.write_message_begin("emitBatch", TMessageType.ONEWAY, 1)
    writer.write_struct(agent().Agent.emitBatch_args(batch=thrift_batch))
    writer.write_message_end()
    return buffer.getvalue()


def send_udp(address: tuple[str, int], data: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(data, address)


def binary_batch(thrift_batch: Any) -> bytes:
    buffer = TMemoryBuffer()
    TBinaryProtocol(buffer).write_struct(thrift_batch)
    return buffer.getvalue()


def post_http(url: str, body: bytes, content_type: str = "application/x-thrift") -> requests.Response:
    return requests.post(url, data=body, headers={"Content-Type": content_type}, timeout=5)


def trace_hex(trace: tuple[int, int]) -> str:
    high, low = trace
    return f"{high & (2**64 - 1):016x}{low & (2**64 - 1):016x}"
