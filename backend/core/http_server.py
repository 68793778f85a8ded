"""What every HTTP endpoint of the backend shares: its limits in the config, and a start that says what failed.

Each endpoint's options (``receivers.otlp.protocols.http``,
``extensions.jaeger_query.http``, ...) extend ``HttpServerOptions``, so the
same keys mean the same everywhere, named as the Collector's ``confighttp``
names them, plus ``max_connections`` (see ``httpd.limits``).
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from backend.core.binding import ConfigError, Duration
from backend.core.component import StartError
from backend.core.endpoints import parse_endpoint
from httpd.limits import Limits
from httpd.wsgi import WsgiApp
from httpd.wsgi_server import WsgiServer

_S = 1_000_000_000
_DEFAULTS = Limits()


@dataclass
class HttpServerOptions:
    endpoint: str = ""
    read_header_timeout: Duration = Duration(round(_DEFAULTS.read_header_timeout * _S))
    read_timeout: Duration = Duration(round(_DEFAULTS.read_timeout * _S))
    write_timeout: Duration = Duration(round(_DEFAULTS.write_timeout * _S))
    idle_timeout: Duration = Duration(round(_DEFAULTS.idle_timeout * _S))
    max_connections: int = _DEFAULTS.max_connections
    max_request_header_size: int = _DEFAULTS.max_request_header_size

    def limits(self, where: str, max_request_body_size: int = _DEFAULTS.max_request_body_size) -> Limits:
        """The server limits these options give; ``ConfigError`` naming the key of a value out of range."""
        try:
            return Limits(
                read_header_timeout=self.read_header_timeout / _S,
                read_timeout=self.read_timeout / _S,
                write_timeout=self.write_timeout / _S,
                idle_timeout=self.idle_timeout / _S,
                max_connections=self.max_connections,
                max_request_header_size=self.max_request_header_size,
                max_request_body_size=max_request_body_size,
            )
        except ValueError as exc:
            key, _, message = str(exc).partition(": ")
            raise ConfigError(f"{where}.{key}", message) from exc

    def check(self, where: str, max_request_body_size: int = _DEFAULTS.max_request_body_size) -> None:
        """Every mistake these options can hold, found while the config is read."""
        parse_endpoint(self.endpoint, f"{where}.endpoint")
        self.limits(where, max_request_body_size)


@dataclass(frozen=True)
class Endpoint:
    """Which endpoint of the config is served, for its errors, threads and logs.

    ``where`` locates its options (``file: extensions.jaeger_query.http``), ``what`` names it
    for people (``jaeger_query extension (query API and UI)``), ``name`` for threads and logs.
    """

    where: str
    what: str
    name: str


def start_http(
    app: WsgiApp,
    options: HttpServerOptions,
    endpoint: Endpoint,
    threads: int,
    max_request_body_size: int = 0,
    pool: Callable[[int, str], ThreadPoolExecutor] = ThreadPoolExecutor,
) -> WsgiServer:
    """Serve ``app`` as ``options`` say, on ``threads`` threads that ``pool`` makes (0: on the event loop); a port
    that cannot be had is a ``StartError`` naming key, address and why."""
    where = endpoint.where
    address, port = parse_endpoint(options.endpoint, f"{where}.endpoint")
    limits = options.limits(where, max_request_body_size or _DEFAULTS.max_request_body_size)
    server = WsgiServer(app, address, port, name=endpoint.name, threads=threads, limits=limits, pool=pool)
    try:
        server.start()
    except OSError as exc:
        raise StartError(f"{where}.endpoint", bind_failure(endpoint.what, address, port, exc)) from exc
    return server


def bind_failure(what: str, address: str, port: int, exc: OSError) -> str:
    """Why ``what`` cannot listen on ``address:port``, and what would do instead."""
    shown = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    if exc.errno == errno.EADDRINUSE:
        reason = "the port is already in use (another process, or another endpoint of this config, holds it)"
    elif exc.errno == errno.EADDRNOTAVAIL:
        reason = "the address is not one of this machine's"
    elif exc.errno == errno.EACCES:
        reason = "permission denied (ports below 1024 need privileges)"
    else:
        reason = exc.strerror or str(exc)
    return f"{what} cannot listen on {shown}: {reason}; expected a free host:port (port 0 picks any free one)"
