"""Small helpers every test area shares: waiting for a condition, the ports a server reports it got,
protos compiled by protoc."""

from __future__ import annotations

import asyncio
import importlib
import importlib.resources
import os
import re
import socket
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import sqlalchemy

from backend.core.ports import ENDPOINTS

T = TypeVar("T")


ANY_PORT = "127.0.0.1:0"  # an endpoint whose port the kernel picks; the server reports what it got
# the shared PostgreSQL test database; each test area works in schemas of its own and drops them
DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

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


def on_any_port(*flags: str) -> list[str]:
    """Config overrides (``--set`` form) putting the backend ports these flags name on port 0."""
    return [f"{ENDPOINTS[flag][0]}={ANY_PORT}" for flag in flags]


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


def compile_proto(text: str, name: str, folder: Path) -> ModuleType:
    """``text`` compiled by grpcio-tools' protoc and imported as ``<name>_pb2``: a client's messages made
    independently of the backend's own tables (Google's well-known types may be imported)."""
    from grpc_tools import protoc

    (folder / f"{name}.proto").write_text(text)
    well_known = importlib.resources.files("grpc_tools") / "_proto"
    arguments = ["protoc", f"-I{folder}", f"-I{well_known}", f"--python_out={folder}", str(folder / f"{name}.proto")]
    assert protoc.main(arguments) == 0, f"protoc could not compile {name}.proto"
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(f"{name}_pb2")
    finally:
        sys.path.remove(str(folder))


def drop_schema(schema: str) -> None:
    """Drop a test's PostgreSQL schema and all in it (nothing when it was never created)."""
    engine = sqlalchemy.create_engine(DATABASE_URL, poolclass=sqlalchemy.NullPool)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        engine.dispose()


def run_on_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` without its side effect on the main thread: after ``asyncio.run`` the main thread no longer
    gets an event loop made on demand, which libraries that ask for one (jaeger-client's tornado reporter) need."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()
