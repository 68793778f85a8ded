"""The servers one receiver listens with, by endpoint name: what ``endpoints()`` reports and ``shutdown()`` stops.

``ServingReceiver`` is the base of the receivers that listen (OTLP, Jaeger, Zipkin): it holds their
``Servers``, reports and stops them, and makes each transport's ``Ingest``, so that none writes that again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from backend.core.binding import ConfigError, bind, require_at_least_one
from backend.core.component import Consumer, OptionsT, Receiver, Settings, Stage, StartError
from backend.core.endpoints import parse_endpoint
from backend.core.http_server import Endpoint, HttpServerOptions, start_http
from backend.core.lag import LaggingPool
from backend.receivers.shared.grpc_server import MIB, GrpcIngestServer, GrpcServerOptions
from backend.receivers.shared.ingest import Ingest


class Listening(Protocol):
    @property
    def address(self) -> str: ...

    def stop(self) -> None:
        """Stop listening; what is in progress finishes (and is answered) first."""


class Servers:
    def __init__(self, component_id: str) -> None:
        self._id = component_id
        self._by_name: dict[str, Listening] = {}

    def add(self, name: str, server: Listening) -> None:
        """``name`` becomes ``<component id>/<name>`` in ``endpoints()``; "" names the component alone."""
        self._by_name[name] = server

    def endpoints(self) -> dict[str, str]:
        return {f"{self._id}/{name}" if name else self._id: server.address for name, server in self._by_name.items()}

    def stop_all(self) -> None:
        """Last started, first stopped; each server stops at most once."""
        while self._by_name:
            _, server = self._by_name.popitem()
            server.stop()


@dataclass
class _Protocols:
    protocols: dict[str, Any]


def bind_protocols(raw: Any, where: str, known: tuple[str, ...]) -> dict[str, Any]:
    """A receiver's ``protocols`` mapping, by name; ``ConfigError`` naming an unknown protocol, or none at all."""
    protocols = bind(_Protocols, raw, where).protocols
    where = f"{where}.protocols"
    unknown = sorted(set(protocols) - set(known))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}", f"unknown protocol; expected one of {', '.join(known)}")
    if not protocols:
        raise ConfigError(where, f"expected at least one of {', '.join(known)}")
    return protocols


@dataclass
class IngestHttpOptions(HttpServerOptions):
    """A receiver's HTTP protocol: the server's options, the largest body it reads, and its threads."""

    max_request_body_size: int = 20 * MIB
    threads: int = 4

    def check_ingest(self, where: str, positive: tuple[str, ...] = ("max_request_body_size", "threads")) -> None:
        """``ConfigError`` at ``where`` for a server option out of range or any of ``positive`` below 1."""
        require_at_least_one(self, positive, where)
        self.check(where, self.max_request_body_size)


class ServingReceiver(Stage[OptionsT], Receiver):
    def __init__(self, settings: Settings, options: OptionsT, next_consumer: Consumer) -> None:
        super().__init__(settings, options, next_consumer)
        self._servers = Servers(settings.id)

    def _ingest(self, transport: str) -> Ingest:
        s = self._settings
        return Ingest(s.id, transport, self._next, s.metrics, s.logger)

    def _start_grpc(self, server_type: type[GrpcIngestServer], options: GrpcServerOptions, where: str) -> None:
        """Start the protocol's gRPC server as ``grpc``; a port it cannot take is a ``StartError`` at ``where``."""
        address, port = parse_endpoint(options.endpoint, f"{where}.endpoint")
        server = server_type(self._ingest("grpc"), address, port, options.max_recv_msg_size_mib * MIB, options.workers)
        try:
            server.start()
        except OSError as exc:
            raise StartError(f"{where}.endpoint", f"{self._settings.id} receiver {exc}") from exc
        self._servers.add("grpc", server)

    def _start_http(self, name: str, app: Callable[..., Any], options: IngestHttpOptions, at: Endpoint) -> None:
        """Serve ``app`` as ``name``, at the endpoint ``at`` locates (where, what and name, as ``start_http`` wants)."""
        endpoint = Endpoint(at.where, f"{self._settings.id} receiver ({at.what})", at.name)
        server = start_http(app, options, endpoint, options.threads, options.max_request_body_size, LaggingPool)
        self._servers.add(name, server)

    def endpoints(self) -> dict[str, str]:
        return self._servers.endpoints()

    def shutdown(self) -> None:
        """Stop every server; what is in progress (datagrams read, requests) is handled and answered first."""
        self._servers.stop_all()
