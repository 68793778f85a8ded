"""The ``otlp`` receiver: OTLP over gRPC and over HTTP, each enabled by naming it under ``protocols``.

As in the Collector, ``protocols: {grpc: , http: }`` (empty values) turns a
protocol on with its defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.core.binding import ConfigError, bind, require_at_least_one
from backend.core.component import Host, ReceiverFactory
from backend.core.endpoints import parse_endpoint
from backend.core.http_server import Endpoint, HttpServerOptions, start_http
from backend.receivers.otlp.grpc_ingest import OtlpGrpcServer
from backend.receivers.otlp.http_ingest import OtlpHttpApp
from backend.receivers.shared.servers import ServingReceiver

MIB = 1024 * 1024


@dataclass
class HttpOptions(HttpServerOptions):
    endpoint: str = "127.0.0.1:4318"
    max_request_body_size: int = 20 * MIB
    # 0: each request is decoded on the server's event-loop thread (see httpd/wsgi_server.py): ingest computes,
    # so under the GIL a pool of threads adds hand-offs and no speed.  The persistent queue's disk sync is not
    # waited for there: the answer waits for it off the loop (backend/core/deferred.py), so requests keep being
    # decoded meanwhile and their batches share the next sync (group commit)
    threads: int = 0


@dataclass
class GrpcOptions:
    endpoint: str = "127.0.0.1:4317"
    max_recv_msg_size_mib: int = 20
    workers: int = 8


@dataclass
class OtlpOptions:
    grpc: GrpcOptions | None = None
    http: HttpOptions | None = None


@dataclass
class _Raw:
    protocols: dict[str, Any]


def _options(raw: Any, where: str) -> OtlpOptions:
    protocols = bind(_Raw, raw, where).protocols
    where = f"{where}.protocols"
    unknown = sorted(set(protocols) - {"grpc", "http"})
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}", "unknown protocol; expected grpc or http")
    if not protocols:
        raise ConfigError(where, "expected at least one of grpc and http")
    options = OtlpOptions()
    if "grpc" in protocols:
        options.grpc = bind(GrpcOptions, protocols["grpc"], f"{where}.grpc")
        parse_endpoint(options.grpc.endpoint, f"{where}.grpc.endpoint")
        require_at_least_one(options.grpc, ("max_recv_msg_size_mib", "workers"), f"{where}.grpc")
    if "http" in protocols:
        options.http = bind(HttpOptions, protocols["http"], f"{where}.http")
        require_at_least_one(options.http, ("max_request_body_size",), f"{where}.http")
        options.http.check(f"{where}.http", options.http.max_request_body_size)
        if options.http.threads < 0:
            raise ConfigError(f"{where}.http.threads", "expected 0 (serve on the event loop) or a positive count")
    return options


class OtlpReceiver(ServingReceiver[OtlpOptions]):
    def start(self, host: Host) -> None:
        where = f"{self._settings.where}.protocols"
        if self._options.grpc is not None:
            grpc_options = self._options.grpc
            address, port = parse_endpoint(grpc_options.endpoint, f"{where}.grpc.endpoint")
            grpc_server = OtlpGrpcServer(
                self._ingest("grpc"), address, port, grpc_options.max_recv_msg_size_mib * MIB, grpc_options.workers
            )
            self._listen("grpc", grpc_server, f"{where}.grpc.endpoint")
        if self._options.http is not None:
            http = self._options.http
            http_server = start_http(
                OtlpHttpApp(self._ingest("http"), http.max_request_body_size),
                http,
                Endpoint(f"{where}.http", f"{self._settings.id} receiver (OTLP/HTTP)", "otlp-http"),
                http.threads,
                http.max_request_body_size,
            )
            self._servers.add("http", http_server)


FACTORY = ReceiverFactory("otlp", _options, OtlpReceiver)
