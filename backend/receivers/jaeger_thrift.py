"""Jaeger over Thrift: decoding agent datagrams and collector HTTP bodies, and the HTTP endpoint itself.

UDP (the agent protocol): each datagram is one Thrift message ``emitBatch``
whose argument is a ``Batch``, in the compact (6831) or binary (6832)
protocol.  HTTP (the collector, 14268): ``POST /api/traces`` with a
``Batch`` in the binary protocol as the body, answered 202 Accepted as
Jaeger does; 400 with a plain-text reason for a body that is not a batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from thriftpy2.thrift import TMessageType

from backend.component import Refused
from backend.otlp import InvalidRequest
from backend.receivers.idl import agent, jaeger
from backend.receivers.ingest import Ingest
from backend.receivers.jaeger_translate import to_request
from backend.receivers.otlp_http import TooLarge, inflate
from backend.receivers.thrift_limits import StrictBinaryProtocol, StrictBuffer, StrictCompactProtocol

# Pure-Python readers made strict (see thrift_limits): the Cython ones do not stop at the end of a
# buffer, so a datagram claiming millions of list items would be read as millions of empty structs.
PROTOCOLS = {"compact": StrictCompactProtocol, "binary": StrictBinaryProtocol}
TRACES_PATH = "/api/traces"
THRIFT_TYPES = ("application/x-thrift", "application/vnd.apache.thrift.binary")


def decode_datagram(data: bytes, protocol: str) -> Any:
    """The ``Batch`` of an agent ``emitBatch`` datagram; raises ``InvalidRequest`` saying what is wrong."""
    reader = PROTOCOLS[protocol](StrictBuffer(data))
    try:
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
        StrictBinaryProtocol(StrictBuffer(body)).read_struct(batch)
    except Exception as exc:  # as above: any failure to decode means the body is malformed
        raise InvalidRequest(f"body is not a valid Thrift binary Jaeger Batch: {exc!r}") from exc
    return batch


def ingest_batch(ingest: Ingest, batch: Any) -> None:
    """Translate and hand on; raises ``InvalidRequest`` for a batch without a process or with bad ids."""
    decoded = ingest.export(to_request(batch))
    if decoded.rejected:
        raise InvalidRequest(decoded.error)


class JaegerHttpApp:
    """``POST /api/traces``: the Jaeger collector's Thrift-over-HTTP endpoint, as a lean WSGI app."""

    def __init__(self, ingest: Ingest, max_body_size: int) -> None:
        self._ingest = ingest
        self._max = max_body_size

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("PATH_INFO") != TRACES_PATH:
            return plain_text(start_response, "404 Not Found", f"only {TRACES_PATH} is served")
        if environ.get("REQUEST_METHOD") != "POST":
            return plain_text(start_response, "405 Method Not Allowed", "use POST", [("Allow", "POST")])
        content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if content_type not in THRIFT_TYPES:
            self._ingest.failed("unsupported_media_type")
            message = f"Content-Type must be {THRIFT_TYPES[0]}, not {content_type or 'missing'!r}"
            return plain_text(start_response, "415 Unsupported Media Type", message)
        encoding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        try:
            body = environ["wsgi.input"].read()
            if encoding == "gzip":
                body = inflate(body, self._max)
            elif encoding not in ("", "identity"):
                self._ingest.failed("unsupported_media_type")
                return plain_text(
                    start_response, "415 Unsupported Media Type", f"unsupported Content-Encoding {encoding!r}"
                )
            ingest_batch(self._ingest, decode_batch(body))
        except TooLarge as exc:
            self._ingest.failed("too_large")
            return plain_text(start_response, "413 Content Too Large", str(exc))
        except InvalidRequest as exc:
            self._ingest.failed("malformed")
            return plain_text(start_response, "400 Bad Request", str(exc))
        except Refused as exc:
            status = "429 Too Many Requests" if exc.overloaded else "503 Service Unavailable"
            return plain_text(
                start_response, status, str(exc), [("Retry-After", str(max(1, math.ceil(exc.retry_after))))]
            )
        start_response("202 Accepted", [("Content-Length", "0")])
        return [b""]


def plain_text(
    start_response: Callable[..., Any], status: str, message: str, headers: list[tuple[str, str]] | None = None
) -> list[bytes]:
    data = (message + "\n").encode()
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data))), *(headers or [])]
    )
    return [data]
