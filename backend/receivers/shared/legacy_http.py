"""One POST endpoint for the legacy HTTP protocols (Jaeger Thrift, Zipkin): the checks and answers they share.

Both answer 202 with no body on success and plain-text errors otherwise:
404/405 for the wrong path or method, 415 for a content type or encoding they
do not take, 413 past the body limit (gzip inflated incrementally), 400 for
a body they cannot decode, 429/503 with ``Retry-After`` when the pipeline
refuses (asked before the body is decoded, too).  Only the decoding differs,
so that is what each protocol passes in.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from backend.core.component import Refused
from backend.receivers.otlp.http_ingest import TooLarge, inflate
from backend.receivers.shared.ingest import Ingest
from backend.spans.otlp import InvalidRequest

#: decodes a body of the given content type and hands it to the ingest; raises InvalidRequest
Handler = Callable[[Ingest, bytes, str], None]


class LegacyPostApp:
    def __init__(
        self,
        ingest: Ingest,
        max_body_size: int,
        path: str,
        content_types: tuple[str, ...],
        handle: Handler,
        default_content_type: str = "",
    ) -> None:
        self._ingest = ingest
        self._max = max_body_size
        self._path = path
        self._types = content_types
        self._handle = handle
        self._default_type = default_content_type

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("PATH_INFO") != self._path:
            return plain_text(start_response, "404 Not Found", f"only {self._path} is served")
        if environ.get("REQUEST_METHOD") != "POST":
            return plain_text(start_response, "405 Method Not Allowed", "use POST", [("Allow", "POST")])
        content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower() or self._default_type
        encoding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if content_type not in self._types or encoding not in ("", "identity", "gzip"):
            self._ingest.failed("unsupported_media_type")
            expected = " or ".join(self._types)
            message = f"expected {expected}, optionally gzip; got {content_type or 'no content type'!r} {encoding!r}"
            return plain_text(start_response, "415 Unsupported Media Type", message)
        try:
            self._ingest.admit()
            body = environ["wsgi.input"].read()
            if encoding == "gzip":
                body = inflate(body, self._max)
            self._handle(self._ingest, body, content_type)
        except TooLarge as exc:
            self._ingest.failed("too_large")
            return plain_text(start_response, "413 Content Too Large", str(exc))
        except InvalidRequest as exc:
            self._ingest.failed("malformed")
            return plain_text(start_response, "400 Bad Request", str(exc))
        except Refused as exc:
            status = "429 Too Many Requests" if exc.overloaded else "503 Service Unavailable"
            retry = [("Retry-After", str(max(1, math.ceil(exc.retry_after))))]
            return plain_text(start_response, status, str(exc), retry)
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
