"""The HTTP limits are config keys of each endpoint (confighttp's names), checked at load and applied to the port."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
import requests

from backend.config import load
from backend.core.binding import ConfigError
from backend.service import BackendService
from tests.backend.test_service import EPHEMERAL

ENDPOINT_OPTIONS = [
    "receivers.otlp.protocols.http",
    "extensions.jaeger_query.http",
    "extensions.healthcheckv2.http",
    "extensions.remote_sampling.http",
]


@pytest.mark.parametrize("where", ENDPOINT_OPTIONS)
@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("idle_timeout", "0s", "expected a positive duration"),
        ("read_header_timeout", "-1s", "expected a positive duration"),
        ("max_connections", "0", "expected at least 1"),
        ("max_request_header_size", "0", "expected at least 1"),
    ],
)
def test_a_limit_out_of_range_is_refused_naming_its_key(where, key, value, expected):
    with pytest.raises(ConfigError, match=f"built-in default config: {where}.{key}: {expected}"):
        load(None, [*EPHEMERAL, f"{where}.{key}={value}"])


@pytest.fixture
def health() -> Iterator[Callable[[str], tuple[str, int]]]:
    started: list[BackendService] = []

    def start(limit: str) -> tuple[str, int]:
        service = BackendService(load(None, [*EPHEMERAL, f"extensions.healthcheckv2.http.{limit}"]))
        started.append(service)
        service.start()
        host, port = service.endpoints["healthcheckv2"].rsplit(":", 1)
        return host, int(port)

    yield start
    for service in started:
        service.shutdown()


def test_the_idle_timeout_of_the_config_closes_a_kept_alive_connection(health):
    with socket.create_connection(health("idle_timeout=0.2s"), timeout=5) as client:
        client.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while chunk := client.recv(4096):  # the answer, then the close after 0.2 s idle
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 OK")


def test_the_connection_cap_of_the_config_refuses_the_excess(health):
    address = health("max_connections=2")
    busy = [socket.create_connection(address, timeout=5) for _ in range(2)]
    try:
        for client in busy:
            client.sendall(b"GET /status HTTP/1.1\r\n")  # begun, never finished: not idle
        refused = requests.get(f"http://{address[0]}:{address[1]}/status", timeout=2)
        assert refused.status_code == 503
        assert "too many connections" in refused.text
    finally:
        for client in busy:
            client.close()
