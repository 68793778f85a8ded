"""Small helpers every test area shares: waiting for a condition, the ports a server reports it got."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


ANY_PORT = "127.0.0.1:0"  # an endpoint whose port the kernel picks; the server reports what it got

# a backend port flag (``hotrod backend|all --<flag>-port``) → the endpoint name the backend reports it under
BACKEND_PORT_FLAGS = {
    "otlp-grpc": "otlp/grpc",
    "otlp-http": "otlp/http",
    "query": "jaeger_query",
    "health": "healthcheckv2",
    "metrics": "metrics",
    "sampling": "remote_sampling",
    "sampling-grpc": "remote_sampling/grpc",
    "jaeger-compact": "jaeger/thrift_compact",
    "jaeger-binary": "jaeger/thrift_binary",
    "jaeger-http": "jaeger/thrift_http",
    "jaeger-grpc": "jaeger/grpc",
    "zipkin": "zipkin",
}
_BACKEND_READY = re.compile(r"^hotrod backend ready: (.*)$", re.MULTILINE)
_SERVICE_LISTENING = re.compile(r"^hotrod (\w+): listening on http://[^:]+:(\d+)$", re.MULTILINE)


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1 (the kernel picks it).

    Only for a process that cannot report the port it bound: another may take it before the bind.
    Servers here take port 0 and say what they got (``reported_endpoints``).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(
    condition: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.05, what: str = "condition"
) -> T:
    """Poll until ``condition()`` returns something truthy; fail with ``what`` after ``timeout`` seconds.

    Exceptions raised by the condition count as "not yet" (a server still starting).
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = condition()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 - a server still starting raises; keep polling
            last_error = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last error: {last_error!r}")
        time.sleep(interval)


def reported_endpoints(output: str) -> dict[str, str] | None:
    """What ``hotrod backend`` started on port 0 reports it bound (endpoint name → host:port); None before that."""
    match = _BACKEND_READY.search(output)
    if match is None:
        return None
    return dict(item.split(" ", 1) for item in match.group(1).split(", "))


def reported_service_ports(output: str) -> dict[str, int]:
    """What ``hotrod all`` / ``hotrod <service>`` started on port 0 reports each service bound (name → port)."""
    return {name: int(port) for name, port in _SERVICE_LISTENING.findall(output)}


def port_of(address: str) -> int:
    """The port of ``host:port``."""
    return int(address.rsplit(":", 1)[1])


def reported_backend_ports(output: str) -> dict[str, int] | None:
    """``reported_endpoints`` by port flag name (``query``, ``otlp-http``, ...): the ones this backend runs."""
    endpoints = reported_endpoints(output)
    if endpoints is None:
        return None
    return {flag: port_of(endpoints[name]) for flag, name in BACKEND_PORT_FLAGS.items() if name in endpoints}
