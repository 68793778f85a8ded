"""OTLP/HTTP: ``POST /v1/traces`` as the OTLP specification describes it, as a lean WSGI app.

Bodies are protobuf (``application/x-protobuf``) or OTLP/JSON
(``application/json``), optionally gzip-compressed; each response is in the
request's encoding.  Status codes: 200 (with ``partial_success`` when some
spans had invalid ids), 400 malformed (a ``google.rpc.Status`` body), 413 too
large (the server enforces the limit on the wire; gzip is inflated a step at a
time and stopped at the same limit), 415 unsupported type or encoding,
429/503 with ``Retry-After`` when the pipeline refuses.  Plain WSGI, no
framework: this is the ingest hot path.

A request is decoded and handed on where the app runs (the event loop's
thread by default); a wait the pipeline defers (the persistent queue's disk
sync, backend/core/deferred.py) is left in the answer, which the server
collects off the loop (``httpd.wsgi.BLOCKING``): 200 once the batch is on
disk, 503 if the sync failed.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from google.protobuf import json_format
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from backend.core.component import Refused
from backend.core.deferred import Wait, collecting
from backend.receivers.shared.ingest import Ingest
from backend.spans.otlp import InvalidRequest, drop_undecodable, parse_json, parse_protobuf

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
TRACES_PATH = "/v1/traces"
_INFLATE_STEP = 256 * 1024
# google.rpc.Code values used in error bodies
_INVALID_ARGUMENT = 3
_RESOURCE_EXHAUSTED = 8
_UNIMPLEMENTED = 12
_UNAVAILABLE = 14


class TooLarge(Exception):
    pass


def inflate(body: bytes, limit: int) -> bytes:
    """Gunzip ``body`` a step at a time, stopping as soon as the output passes ``limit`` bytes."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    parts = []
    size = 0
    data = body
    try:
        while True:
            chunk = inflater.decompress(data, _INFLATE_STEP)
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"the gzip body inflates past the {limit}-byte limit")
            parts.append(chunk)
            data = inflater.unconsumed_tail
            if inflater.eof or (not data and not chunk):
                break
    except zlib.error as exc:
        raise InvalidRequest(f"body is not valid gzip: {exc}") from exc
    if not inflater.eof:
        raise InvalidRequest("the gzip body is truncated")
    return b"".join(parts)


class OtlpHttpApp:
    def __init__(self, ingest: Ingest, max_body_size: int) -> None:
        self._ingest = ingest
        self._max = max_body_size

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != TRACES_PATH:
            return _error(start_response, "404 Not Found", JSON, _UNIMPLEMENTED, f"only {TRACES_PATH} is served")
        if environ.get("REQUEST_METHOD") != "POST":
            return _error(
                start_response, "405 Method Not Allowed", JSON, _UNIMPLEMENTED, "use POST", [("Allow", "POST")]
            )
        content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if content_type not in (PROTOBUF, JSON):
            self._ingest.failed("unsupported_media_type")
            message = f"Content-Type must be {PROTOBUF} or {JSON}, not {content_type or 'missing'!r}"
            return _error(start_response, "415 Unsupported Media Type", JSON, _INVALID_ARGUMENT, message)
        encoding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if encoding not in ("", "identity", "gzip"):
            self._ingest.failed("unsupported_media_type")
            message = f"Content-Encoding must be gzip or none, not {encoding!r}"
            return _error(start_response, "415 Unsupported Media Type", content_type, _INVALID_ARGUMENT, message)
        try:
            self._ingest.admit()
            body = environ["wsgi.input"].read()
            if encoding == "gzip":
                body = inflate(body, self._max)
            with collecting() as waits:
                if content_type == PROTOBUF:
                    request = parse_protobuf(body)
                    decoded = self._ingest.export(request, drop_undecodable(body, request), body)
                else:
                    decoded = self._ingest.export(parse_json(body))
        except TooLarge as exc:
            self._ingest.failed("too_large")
            return _error(start_response, "413 Content Too Large", content_type, _INVALID_ARGUMENT, str(exc))
        except InvalidRequest as exc:
            self._ingest.failed("malformed")
            return _error(start_response, "400 Bad Request", content_type, _INVALID_ARGUMENT, str(exc))
        except Refused as exc:
            return _refused(start_response, content_type, exc)
        response = ExportTraceServiceResponse()
        if decoded.rejected:
            response.partial_success.rejected_spans = decoded.rejected
            response.partial_success.error_message = decoded.error
        if waits:
            return AfterWaits(waits, start_response, content_type, response)
        return _send(start_response, "200 OK", content_type, response)


class AfterWaits:
    """The success answer, given once the pipeline's deferred waits are done; iterating it waits (off the loop)."""

    httpd_blocking = True  # httpd.wsgi.BLOCKING

    def __init__(self, waits: list[Wait], start_response: Callable[..., Any], content_type: str, response: Any):
        self._waits = waits
        self._start_response = start_response
        self._content_type = content_type
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        try:
            for wait in self._waits:
                wait()
        except OSError as exc:  # the batch is queued but not known to be on disk: the sender sends it again
            refused = Refused(f"cannot sync the persistent queue: {exc}", overloaded=False)
            return iter(_refused(self._start_response, self._content_type, refused))
        return iter(_send(self._start_response, "200 OK", self._content_type, self._response))


def _refused(start_response: Callable[..., Any], content_type: str, exc: Refused) -> list[bytes]:
    if exc.overloaded:
        status, code = "429 Too Many Requests", _RESOURCE_EXHAUSTED
    else:
        status, code = "503 Service Unavailable", _UNAVAILABLE
    retry = [("Retry-After", str(max(1, math.ceil(exc.retry_after))))]
    return _error(start_response, status, content_type, code, str(exc), retry)


def _error(
    start_response: Callable[..., Any],
    status: str,
    content_type: str,
    code: int,
    message: str,
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    return _send(start_response, status, content_type, Status(code=code, message=message), headers)


def _send(
    start_response: Callable[..., Any],
    status: str,
    content_type: str,
    message: Any,
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    """``message`` in the request's encoding: protobuf, or JSON (also the answer to unknown types)."""
    if content_type == PROTOBUF:
        data = message.SerializeToString()
    else:
        data = json_format.MessageToJson(message, indent=None).encode()
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data))), *(headers or [])])
    return [data]
