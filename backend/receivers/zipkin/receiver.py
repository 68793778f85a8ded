"""The ``zipkin`` receiver on 9411: ``POST /api/v2/spans`` (JSON or protobuf) and ``/api/v1/spans`` (JSON or Thrift).

Bodies may be gzipped.  v1 spans are brought to v2's shape first (``v1``),
so one translation serves all four encodings, as the Collector's receiver
accepts them all.

Answers as Zipkin does: 202 Accepted, or 400 with a plain-text reason (a
bad id anywhere rejects the whole request), 413 too large, 415 for other
content types, 429/503 with ``Retry-After`` when the pipeline refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.core.binding import bind
from backend.core.component import Host, ReceiverFactory
from backend.core.http_server import Endpoint
from backend.receivers.shared.ingest import Ingest
from backend.receivers.shared.legacy_http import LegacyPostApp, plain_text
from backend.receivers.shared.servers import IngestHttpOptions, ServingReceiver
from backend.receivers.zipkin import v1
from backend.receivers.zipkin.translate import spans_from_json, spans_from_proto, to_request

SPANS_PATH = "/api/v2/spans"
V1_SPANS_PATH = "/api/v1/spans"
JSON = "application/json"
PROTOBUF = "application/x-protobuf"
THRIFT = "application/x-thrift"


@dataclass
class ZipkinOptions(IngestHttpOptions):
    endpoint: str = "127.0.0.1:9411"


def _options(raw: Any, where: str) -> ZipkinOptions:
    options = bind(ZipkinOptions, raw, where)
    options.check_ingest(where)
    return options


def _handle(ingest: Ingest, body: bytes, content_type: str) -> None:
    spans = spans_from_proto(body) if content_type == PROTOBUF else spans_from_json(body)
    ingest.export(to_request(spans))


def _handle_v1(ingest: Ingest, body: bytes, content_type: str) -> None:
    spans = v1.spans_from_thrift(body) if content_type == THRIFT else v1.spans_from_json(body)
    ingest.export(to_request(spans))


class ZipkinApp:
    """Each API version's POST endpoint by path; any other path is a 404 naming both."""

    def __init__(self, ingest: Ingest, max_body_size: int) -> None:
        self._apps = {
            SPANS_PATH: LegacyPostApp(ingest, max_body_size, SPANS_PATH, (JSON, PROTOBUF), _handle, JSON),
            V1_SPANS_PATH: LegacyPostApp(ingest, max_body_size, V1_SPANS_PATH, (JSON, THRIFT), _handle_v1, JSON),
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        app = self._apps.get(environ.get("PATH_INFO", ""))
        if app is None:
            return plain_text(start_response, "404 Not Found", f"only {SPANS_PATH} and {V1_SPANS_PATH} are served")
        return app(environ, start_response)


class ZipkinReceiver(ServingReceiver[ZipkinOptions]):
    def start(self, host: Host) -> None:
        app = ZipkinApp(self._ingest("http"), self._options.max_request_body_size)
        self._start_http("", app, self._options, Endpoint(self._settings.where, "Zipkin v1 and v2 HTTP", "zipkin"))


FACTORY = ReceiverFactory("zipkin", _options, ZipkinReceiver)
