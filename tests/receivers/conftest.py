"""One in-process backend with every legacy receiver and OTLP, memory storage and the query API.

Every port is ephemeral; the backend is shared by the module's tests (each
test uses its own trace and service names).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from backend.config import from_mapping
from backend.service import BackendService
from tests.support import ANY_PORT

MAX_PACKET = 4000


def legacy_config() -> dict:
    return {
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query"],
            "pipelines": {
                "traces": {
                    "receivers": ["otlp", "jaeger", "zipkin"],
                    "processors": [],
                    "exporters": ["jaeger_storage_exporter"],
                }
            },
            "telemetry": {"metrics": {"address": ANY_PORT}},
        },
        "extensions": {
            "jaeger_storage": {"backends": {"main": {"memory": {}}}},
            "jaeger_query": {"storage": {"traces": "main"}, "http": {"endpoint": ANY_PORT}},
        },
        "receivers": {
            "otlp": {"protocols": {"http": {"endpoint": ANY_PORT}}},
            "zipkin": {"endpoint": ANY_PORT},
            "jaeger": {
                "protocols": {
                    "thrift_compact": {"endpoint": ANY_PORT, "max_packet_size": MAX_PACKET},
                    "thrift_binary": {"endpoint": ANY_PORT},
                    "thrift_http": {"endpoint": ANY_PORT},
                    "grpc": {"endpoint": ANY_PORT},
                }
            },
        },
        "exporters": {"jaeger_storage_exporter": {"trace_storage": "main"}},
    }


class Backend:
    def __init__(self, service: BackendService) -> None:
        self.service = service
        self.endpoints = service.endpoints

    def url(self, endpoint: str, path: str = "") -> str:
        return f"http://{self.endpoints[endpoint]}{path}"

    def address(self, endpoint: str) -> tuple[str, int]:
        host, _, port = self.endpoints[endpoint].rpartition(":")
        return host, int(port)

    def metric(self, name: str, **labels: str) -> float:
        """A self-metric's current value (0 when the series does not exist yet)."""
        value = self.service.metrics.registry.get_sample_value(name, labels)
        return value or 0.0

    def trace(self, trace_hex: str) -> dict | None:
        response = requests.get(self.url("jaeger_query", f"/api/traces/{trace_hex}"), timeout=5)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()["data"][0]


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    service = BackendService(from_mapping(legacy_config(), "tests/receivers"))
    service.start()
    try:
        yield Backend(service)
    finally:
        service.shutdown()
