"""Start-up errors of the backend and the HotROD services: the file or flag, the key, the address, what was expected."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator

import pytest
from flask import Flask

from backend.config import load
from backend.core.binding import ConfigError
from backend.core.component import StartError
from backend.core.ports import ENDPOINTS
from backend.service import BackendService
from hotrod.service_app import serve
from tests.backend.conftest import ANY_PORTS, HOTROD
from tests.backend.test_service import EPHEMERAL

PORT_FLAGS = ["otlp-http", "query", "health", "metrics", "sampling", "otlp-grpc"]
WHO = {
    "otlp-http": "otlp receiver (OTLP/HTTP)",
    "otlp-grpc": "otlp receiver (OTLP/gRPC)",
    "query": "jaeger_query extension (query API and UI)",
    "health": "healthcheckv2 extension (health check)",
    "metrics": "self-metrics (/metrics)",
    "sampling": "remote_sampling extension (remote sampling)",
}


@pytest.fixture
def taken() -> Iterator[int]:
    """A port some other process listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("flag", PORT_FLAGS)
def test_a_taken_port_names_the_component_key_and_address(taken, flag):
    key = ENDPOINTS[flag][0]
    service = BackendService(load(None, [*EPHEMERAL, f"{key}=127.0.0.1:{taken}"]))
    with pytest.raises(StartError) as failed:
        service.start()
    message = str(failed.value)
    assert message.startswith(f"built-in default config: {key}: {WHO[flag]} cannot listen on 127.0.0.1:{taken}")
    assert "in use" in message
    assert "expected a free host:port" in message
    assert service.endpoints == {}


def test_hotrod_backend_names_the_flag_that_set_a_taken_port(tmp_path, taken):
    result = subprocess.run(
        [HOTROD, "backend", "--storage", "memory", *ANY_PORTS, "--otlp-http-port", str(taken)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    key = "built-in default config: receivers.otlp.protocols.http.endpoint"
    assert f"cannot start: {key}: otlp receiver (OTLP/HTTP) cannot listen on 127.0.0.1:{taken}" in result.stderr
    assert "set it with --otlp-http-port, HOTROD_BACKEND_OTLP_HTTP_PORT or --set" in result.stderr
    assert "Traceback" not in result.stderr


# the legacy receivers' listeners, by protocol name under receivers.jaeger.protocols, and zipkin's
LEGACY = {"thrift_http": "tcp", "grpc": "tcp", "thrift_compact": "udp", "thrift_binary": "udp", "zipkin": "tcp"}


@pytest.mark.parametrize("protocol", list(LEGACY))
def test_a_legacy_receiver_on_a_taken_port_names_its_key_and_address(protocol):
    udp = LEGACY[protocol] == "udp"
    with socket.socket(type=socket.SOCK_DGRAM if udp else socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        if not udp:
            holder.listen()
        port = holder.getsockname()[1]
        if protocol == "zipkin":
            component, key = "zipkin", "receivers.zipkin"
            receiver = f"receivers.zipkin={{endpoint: 127.0.0.1:{port}}}"
        else:
            component, key = "jaeger", f"receivers.jaeger.protocols.{protocol}"
            receiver = f"receivers.jaeger={{protocols: {{{protocol}: {{endpoint: 127.0.0.1:{port}}}}}}}"
        pipeline = f"service.pipelines.traces.receivers=[otlp, {component}]"
        service = BackendService(load(None, [*EPHEMERAL, receiver, pipeline]))
        with pytest.raises(StartError) as failed:
            service.start()
    message = str(failed.value)
    assert f"built-in default config: {key}.endpoint: {component} receiver (" in message
    assert f"cannot listen on 127.0.0.1:{port}" in message
    assert "expected a free host:port" in message
    assert service.endpoints == {}


def test_a_database_url_with_a_bad_port_names_the_flag_key_and_what_was_expected(tmp_path):
    result = subprocess.run(
        [HOTROD, "backend", *ANY_PORTS, "--storage", "postgres", "--storage-url", "postgresql://h:notaport/db"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "extensions.jaeger_storage.backends.main.sql.url: the port 'notaport' is not a number" in result.stderr
    assert "expected dialect+driver://user@host:PORT/database with PORT from 1 to 65535" in result.stderr
    assert "--storage-url" in result.stderr
    assert "invalid literal" not in result.stderr


@pytest.mark.parametrize(
    ("storage", "expected"),
    [
        ("{sql: {url: 'postgresql://u:secret@h:notaport/db'}}", "expected dialect+driver://user@host:PORT/database"),
        ("{redis: {url: 'redis://h:notaport/0'}}", "expected redis://host:PORT/db"),
    ],
    ids=["sql", "redis"],
)
def test_a_storage_url_with_a_bad_port_in_a_config_names_its_key(storage, expected):
    service = BackendService(load(None, [*EPHEMERAL, f"extensions.jaeger_storage.backends.main={storage}"]))
    with pytest.raises(ConfigError) as failed:
        service.start()
    kind = storage[1:].split(":")[0]
    assert f"built-in default config: extensions.jaeger_storage.backends.main.{kind}.url: " in str(failed.value)
    assert expected in str(failed.value)
    assert "secret" not in str(failed.value)


def test_a_hotrod_service_on_a_taken_port_names_its_flag_and_address(taken):
    with pytest.raises(OSError) as failed:
        serve("route", Flask("route"), "127.0.0.1", taken, threads=1)
    assert f"route cannot listen on 127.0.0.1:{taken}: " in str(failed.value)
    assert "expected a free host:port (set it with --route-port or HOTROD_ROUTE_PORT)" in str(failed.value)
