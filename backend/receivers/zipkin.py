"""The ``zipkin`` receiver: Zipkin's v2 API, ``POST /api/v2/spans`` on 9411, JSON or protobuf, optionally gzip.

Answers as Zipkin does: 202 Accepted, or 400 with a plain-text reason (a
bad id anywhere rejects the whole request), 413 too large, 415 for other
content types, 429/503 with ``Retry-After`` when the pipeline refuses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.component import Consumer, Factory, Host, Receiver, Refused, Settings
from backend.config import parse_endpoint
from backend.config_binding import bind, require_at_least_one
from backend.extensions.wsgi_server import WsgiServer
from backend.otlp import InvalidRequest
from backend.receivers.ingest import Ingest
from backend.receivers.jaeger_thrift import plain_text
from backend.receivers.otlp_http import TooLarge, inflate
from backend.receivers.zipkin_translate import spans_from_json, spans_from_proto, to_request

MIB = 1024 * 1024
SPANS_PATH = "/api/v2/spans"
JSON = "application/json"
PROTOBUF = "application/x-protobuf"


@dataclass
class ZipkinOptions:
    endpoint: str = "127.0.0.1:9411"
    max_request_body_size: int = 20 * MIB
    threads: int = 4


def _options(raw: Any, where: str) -> ZipkinOptions:
    options = bind(ZipkinOptions, raw, where)
    parse_endpoint(options.endpoint, f"{where}.endpoint")
    require_at_least_one(options, ("max_request_body_size", "threads"), where)
    return options


class ZipkinApp:
    def __init__(self, ingest: Ingest, max_body_size: int) -> None:
        self._ingest = ingest
        self._max = max_body_size

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("PATH_INFO") != SPANS_PATH:
            return plain_text(start_response, "404 Not Found", f"only {SPANS_PATH} is served")
        if environ.get("REQUEST_METHOD") != "POST":
            return plain_text(start_response, "405 Method Not Allowed", "use POST", [("Allow", "POST")])
        content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower() or JSON
        encoding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if content_type not in (JSON, PROTOBUF) or encoding not in ("", "identity", "gzip"):
            self._ingest.failed("unsupported_media_type")
            message = f"expected {JSON} or {PROTOBUF}, optionally gzip; got {content_type!r} {encoding!r}"
            return plain_text(start_response, "415 Unsupported Media Type", message)
        try:
            body = environ["wsgi.input"].read()
            if encoding == "gzip":
                body = inflate(body, self._max)
            spans = spans_from_proto(body) if content_type == PROTOBUF else spans_from_json(body)
            self._ingest.export(to_request(spans))
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


class ZipkinReceiver(Receiver):
    def __init__(self, settings: Settings, options: ZipkinOptions, next_consumer: Consumer):
        self._settings = settings
        self._options = options
        self._next = next_consumer
        self._http: WsgiServer | None = None

    def start(self, host: Host) -> None:
        s = self._settings
        address, port = parse_endpoint(self._options.endpoint, f"{s.where}.endpoint")
        app = ZipkinApp(Ingest(s.id, "http", self._next, s.metrics, s.logger), self._options.max_request_body_size)
        server = WsgiServer(
            app,
            address,
            port,
            name="zipkin",
            threads=self._options.threads,
            max_request_body_size=self._options.max_request_body_size,
        )
        server.start()
        self._http = server

    def endpoints(self) -> dict[str, str]:
        return {self._settings.id: self._http.address} if self._http is not None else {}

    def shutdown(self) -> None:
        if self._http is not None:
            self._http.stop()
            self._http = None


FACTORY = Factory("receiver", "zipkin", _options, ZipkinReceiver)
