"""A gRPC receiver's server: the same bounds, bind rules and stop for every gRPC protocol.

Each protocol subclasses ``GrpcIngestServer`` (or, serving no spans,
``GrpcServer``) and says only which method it serves (``handler``) and how it
handles a call.  Calls run in a ``LaggingPool``, which times them, so that an
in-process store can refuse while they take too long (``max_receive_lag``);
every refusal is answered as ``abort_refused`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.protobuf.any_pb2 import Any as AnyProto
from google.protobuf.duration_pb2 import Duration
from google.rpc.error_details_pb2 import RetryInfo
from google.rpc.status_pb2 import Status

from backend.core.binding import require_at_least_one
from backend.core.component import Refused
from backend.core.endpoints import parse_endpoint
from backend.core.lag import LaggingPool
from backend.receivers.shared.ingest import Ingest

MIB = 1024 * 1024


@dataclass
class GrpcServerOptions:
    """A gRPC protocol's options under a receiver's ``protocols``; each protocol subclasses it with its defaults."""

    endpoint: str = ""
    max_recv_msg_size_mib: int = 4
    workers: int = 4

    def check(self, where: str) -> None:
        """``ConfigError`` at ``where`` for an endpoint that is not host:port or a size or count below 1."""
        parse_endpoint(self.endpoint, f"{where}.endpoint")
        require_at_least_one(self, ("max_recv_msg_size_mib", "workers"), where)


class GrpcServer:
    """A grpcio server bound as every server here is: one address, no port sharing, errors naming the protocol."""

    label = "gRPC"  # names the protocol in bind errors and thread names

    def __init__(self, host: str, port: int, max_message_bytes: int, workers: int) -> None:
        self._host = host
        self._port = port
        self._max = max_message_bytes
        self._workers = workers
        self._server: grpc.Server | None = None
        self._bound = 0

    def handler(self) -> grpc.GenericRpcHandler:
        raise NotImplementedError

    def start(self) -> None:
        """Bind and serve; ``OSError`` naming the protocol when the address cannot be had."""
        server = grpc.server(
            LaggingPool(self._workers, thread_name_prefix=self.label.lower().replace("/", "-")),
            handlers=[self.handler()],
            options=[
                ("grpc.max_receive_message_length", self._max),
                ("grpc.so_reuseport", 0),  # a port in use must fail, not be shared silently
            ],
        )
        shown = f"[{self._host}]" if ":" in self._host else self._host
        failure = OSError(
            f"({self.label}) cannot listen on {shown}:{self._port}: the port is in use or the address is not"
            " this machine's; expected a free host:port (port 0 picks any free one)"
        )
        try:
            self._bound = server.add_insecure_port(f"{shown}:{self._port}")
        except RuntimeError as exc:  # grpcio's own words add nothing but a hint to turn on its debug logs
            raise failure from exc
        if self._bound == 0:
            raise failure
        server.start()
        self._server = server

    @property
    def address(self) -> str:
        return f"{self._host}:{self._bound}"

    def stop(self, grace: float = 5.0) -> None:
        """Refuse new calls, let calls in progress finish (up to ``grace`` seconds)."""
        if self._server is not None:
            self._server.stop(grace).wait()
            self._server = None


class GrpcIngestServer(GrpcServer):
    """A receiver's server: its calls hand spans to ``ingest``."""

    def __init__(self, ingest: Ingest, host: str, port: int, max_message_bytes: int, workers: int) -> None:
        super().__init__(host, port, max_message_bytes, workers)
        self._ingest = ingest


def abort_refused(context: grpc.ServicerContext, refused: Refused) -> None:
    """End the call as refused (``context.abort`` raises): RESOURCE_EXHAUSTED (overloaded) or UNAVAILABLE, with a
    ``google.rpc.RetryInfo`` detail carrying ``retry_after``, which OTLP exporters honour (and other clients may)."""
    code = grpc.StatusCode.RESOURCE_EXHAUSTED if refused.overloaded else grpc.StatusCode.UNAVAILABLE
    delay = Duration()
    delay.FromNanoseconds(int(refused.retry_after * 1e9))
    detail = AnyProto()
    detail.Pack(RetryInfo(retry_delay=delay))
    status = Status(code=code.value[0], message=str(refused), details=[detail])
    context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
    context.abort(code, str(refused))
