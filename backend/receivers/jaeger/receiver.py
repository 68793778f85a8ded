"""The ``jaeger`` receiver, as the Collector contrib names it: Jaeger clients' legacy protocols.

``protocols`` turns each on (an empty value takes the defaults):
``thrift_compact`` (agent UDP 6831), ``thrift_binary`` (agent UDP 6832) and
``thrift_http`` (collector HTTP 14268) and ``grpc`` (collector gRPC 14250).  Spans go through the same
translation to OTLP and the same ``to_batch`` as every receiver.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from backend.core.binding import bind, require_at_least_one
from backend.core.component import Host, ReceiverFactory, StartError
from backend.core.endpoints import parse_endpoint
from backend.core.http_server import Endpoint, bind_failure
from backend.receivers.jaeger.grpc_ingest import JaegerGrpcServer
from backend.receivers.jaeger.thrift import jaeger_http_app
from backend.receivers.jaeger.udp import UdpServer
from backend.receivers.shared.grpc_server import GrpcServerOptions
from backend.receivers.shared.servers import IngestHttpOptions, ServingReceiver, bind_protocols

_UDP = {"thrift_compact": ("compact", "127.0.0.1:6831"), "thrift_binary": ("binary", "127.0.0.1:6832")}


@dataclass
class UdpOptions:
    endpoint: str
    max_packet_size: int = 65_000
    queue_size: int = 1000
    workers: int = 2


@dataclass
class HttpOptions(IngestHttpOptions):
    endpoint: str = "127.0.0.1:14268"


@dataclass
class GrpcOptions(GrpcServerOptions):
    endpoint: str = "127.0.0.1:14250"
    max_recv_msg_size_mib: int = 4
    workers: int = 4


@dataclass
class JaegerOptions:
    udp: dict[str, UdpOptions]  # by protocol name
    http: HttpOptions | None = None
    grpc: GrpcOptions | None = None


def _options(raw: Any, where: str) -> JaegerOptions:
    protocols = bind_protocols(raw, where, (*_UDP, "thrift_http", "grpc"))
    where = f"{where}.protocols"
    options = JaegerOptions(udp={})
    for name, (_protocol, endpoint) in _UDP.items():
        if name in protocols:
            at = f"{where}.{name}"
            udp = bind(UdpOptions, {"endpoint": endpoint, **(protocols[name] or {})}, at)
            parse_endpoint(udp.endpoint, f"{at}.endpoint")
            require_at_least_one(udp, ("max_packet_size", "queue_size", "workers"), at)
            options.udp[name] = udp
    if "thrift_http" in protocols:
        at = f"{where}.thrift_http"
        options.http = bind(HttpOptions, protocols["thrift_http"], at)
        options.http.check_ingest(at)
    if "grpc" in protocols:
        at = f"{where}.grpc"
        options.grpc = bind(GrpcOptions, protocols["grpc"], at)
        options.grpc.check(at)
    return options


class JaegerReceiver(ServingReceiver[JaegerOptions]):
    def start(self, host: Host) -> None:
        where = f"{self._settings.where}.protocols"
        try:
            for name, udp in self._options.udp.items():
                address, port = parse_endpoint(udp.endpoint, f"{where}.{name}.endpoint")
                protocol = _UDP[name][0]
                udp_server = UdpServer(
                    self._ingest(name),
                    protocol,
                    address,
                    port,
                    udp.max_packet_size,
                    udp.queue_size,
                    udp.workers,
                    self._settings.logger,
                    functools.partial(host.report, f"{self._settings.id}/{name}"),
                )
                try:
                    udp_server.start()
                except OSError as exc:
                    raise StartError(f"{where}.{name}.endpoint", self._cannot_listen(name, address, port, exc)) from exc
                self._servers.add(name, udp_server)
            if self._options.http is not None:
                http = self._options.http
                app = jaeger_http_app(self._ingest("thrift_http"), http.max_request_body_size)
                self._start_http(
                    "thrift_http", app, http, Endpoint(f"{where}.thrift_http", "Thrift over HTTP", "jaeger-http")
                )
            if self._options.grpc is not None:
                self._start_grpc(JaegerGrpcServer, self._options.grpc, f"{where}.grpc")
        except StartError:
            self.shutdown()
            raise

    def _cannot_listen(self, protocol: str, address: str, port: int, exc: OSError) -> str:
        return bind_failure(f"{self._settings.id} receiver ({protocol}, UDP)", address, port, exc)


FACTORY = ReceiverFactory("jaeger", _options, JaegerReceiver)
