"""The ``otlp`` receiver: OTLP over gRPC and over HTTP, each enabled by naming it under ``protocols``.

As in the Collector, ``protocols: {grpc: , http: }`` (empty values) turns a
protocol on with its defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.core.binding import ConfigError, bind
from backend.core.component import Host, ReceiverFactory
from backend.core.http_server import Endpoint
from backend.receivers.otlp.grpc_ingest import OtlpGrpcServer
from backend.receivers.otlp.http_ingest import OtlpHttpApp
from backend.receivers.shared.grpc_server import GrpcServerOptions
from backend.receivers.shared.servers import IngestHttpOptions, ServingReceiver, bind_protocols


@dataclass
class HttpOptions(IngestHttpOptions):
    endpoint: str = "127.0.0.1:4318"
    # 0: each request is decoded on the server's event-loop thread (see httpd/wsgi_server.py): ingest computes,
    # so under the GIL a pool of threads adds hand-offs and no speed.  The persistent queue's disk sync is not
    # waited for there: the answer waits for it off the loop (backend/core/deferred.py), so requests keep being
    # decoded meanwhile and their batches share the next sync (group commit)
    threads: int = 0


@dataclass
class GrpcOptions(GrpcServerOptions):
    endpoint: str = "127.0.0.1:4317"
    max_recv_msg_size_mib: int = 20
    workers: int = 8


@dataclass
class OtlpOptions:
    grpc: GrpcOptions | None = None
    http: HttpOptions | None = None


def _options(raw: Any, where: str) -> OtlpOptions:
    protocols = bind_protocols(raw, where, ("grpc", "http"))
    where = f"{where}.protocols"
    options = OtlpOptions()
    if "grpc" in protocols:
        options.grpc = bind(GrpcOptions, protocols["grpc"], f"{where}.grpc")
        options.grpc.check(f"{where}.grpc")
    if "http" in protocols:
        options.http = bind(HttpOptions, protocols["http"], f"{where}.http")
        options.http.check_ingest(f"{where}.http", positive=("max_request_body_size",))
        if options.http.threads < 0:
            raise ConfigError(f"{where}.http.threads", "expected 0 (serve on the event loop) or a positive count")
    return options


class OtlpReceiver(ServingReceiver[OtlpOptions]):
    def start(self, host: Host) -> None:
        where = f"{self._settings.where}.protocols"
        if self._options.grpc is not None:
            self._start_grpc(OtlpGrpcServer, self._options.grpc, f"{where}.grpc")
        if self._options.http is not None:
            http = self._options.http
            app = OtlpHttpApp(self._ingest("http"), http.max_request_body_size)
            self._start_http("http", app, http, Endpoint(f"{where}.http", "OTLP/HTTP", "otlp-http"))


FACTORY = ReceiverFactory("otlp", _options, OtlpReceiver)
