"""Jaeger over Thrift: decoding agent datagrams and collector HTTP bodies, and the HTTP endpoint itself.

UDP (the agent protocol): each datagram is one Thrift message ``emitBatch``
whose argument is a ``Batch``, in the compact (6831) or binary (6832)
protocol.  HTTP (the collector, 14268): ``POST /api/traces`` with a
``Batch`` in the binary protocol as the body, answered 202 Accepted as
Jaeger does; 400 with a plain-text reason for a body that is not a batch.
"""

from __future__ import annotations

from typing import Any

from thriftpy2.protocol import binary
from thriftpy2.thrift import TMessageType

from backend.receivers.idl import agent, jaeger
from backend.receivers.jaeger.thrift_limits import (
    StrictBuffer,
    StrictCompactProtocol,
    check_binary,
    read_binary_struct,
)
from backend.receivers.jaeger.translate import to_request
from backend.receivers.shared.ingest import Ingest
from backend.receivers.shared.legacy_http import LegacyPostApp
from backend.spans.otlp import InvalidRequest

# Pure-Python readers made strict (see thrift_limits): the Cython ones do not stop at the end of a
# buffer, so a datagram claiming millions of list items would be read as millions of empty structs.
PROTOCOLS = {"compact": StrictCompactProtocol, "binary": binary.TBinaryProtocol}
TRACES_PATH = "/api/traces"
THRIFT_TYPES = ("application/x-thrift", "application/vnd.apache.thrift.binary")


def decode_datagram(data: bytes, protocol: str) -> Any:
    """The ``Batch`` of an agent ``emitBatch`` datagram; raises ``InvalidRequest`` saying what is wrong."""
    reader = PROTOCOLS[protocol](StrictBuffer(data))
    try:
        if protocol == "binary":
            check_binary(data, message=True)
        name, message_type, _seqid = reader.read_message_begin()
        if name != "emitBatch" or message_type not in (TMessageType.ONEWAY, TMessageType.CALL):
            raise InvalidRequest(f"expected a Thrift emitBatch message, got {name!r} (type {message_type})")
        args = agent().Agent.emitBatch_args()
        reader.read_struct(args)
    except InvalidRequest:
        raise
    except Exception as exc:  # thriftpy2 raises many kinds (struct, EOF, Unicode, Key ...) on malformed input
        raise InvalidRequest(f"datagram is not a valid Thrift {protocol} emitBatch message: {exc!r}") from exc
    if args.batch is None:
        raise InvalidRequest("the emitBatch message carries no batch")
    return args.batch


def decode_batch(body: bytes) -> Any:
    """A ``Batch`` serialized on its own in the binary protocol (the collector's HTTP body)."""
    batch = jaeger().Batch()
    try:
        check_binary(body, message=False)
        read_binary_struct(body, batch)
    except Exception as exc:  # as above: any failure to decode means the body is malformed
        raise InvalidRequest(f"body is not a valid Thrift binary Jaeger Batch: {exc!r}") from exc
    return batch


def ingest_batch(ingest: Ingest, batch: Any) -> None:
    """Translate and hand on; raises ``InvalidRequest`` for a batch without a process or with bad ids."""
    decoded = ingest.export(to_request(batch))
    if decoded.rejected:
        raise InvalidRequest(decoded.error)


def jaeger_http_app(ingest: Ingest, max_body_size: int) -> LegacyPostApp:
    """``POST /api/traces``: the Jaeger collector's Thrift-over-HTTP endpoint."""
    return LegacyPostApp(ingest, max_body_size, TRACES_PATH, THRIFT_TYPES, _handle_http)


def _handle_http(ingest: Ingest, body: bytes, _content_type: str) -> None:
    ingest_batch(ingest, decode_batch(body))
