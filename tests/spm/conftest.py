"""A real backend (the built-in config, spanmetrics on) in this process, and ways to feed and ask it."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from backend.cli import apply_flags
from backend.config import from_mapping, read, set_path
from backend.core.ports import ENDPOINTS
from backend.service import BackendService
from tests.builders import SpanSpec, export_request
from tests.support import wait_for

PORTS = tuple(name.replace("-", "_") + "_port" for name in ENDPOINTS)  # every port the built-in config binds


@dataclass
class Backend:
    service: BackendService

    def url(self, name: str, path: str = "") -> str:
        return f"http://{self.service.endpoints[name]}{path}"

    def send(self, specs: list[SpanSpec]) -> None:
        body = export_request(specs).SerializeToString()
        response = requests.post(
            self.url("otlp/http", "/v1/traces"),
            data=body,
            headers={"Content-Type": "application/x-protobuf"},
            timeout=10,
        )
        response.raise_for_status()

    def metrics(self, kind: str, **params: Any) -> requests.Response:
        return requests.get(self.url("jaeger_query", f"/api/metrics/{kind}"), params=params, timeout=10)

    def calls_counted(self, service: str, expected: int, **params: Any) -> None:
        """Wait until the API's last call-rate point stands for ``expected`` calls in the rate window."""

        def counted() -> bool:
            data = self.metrics(
                "calls", service=service, ratePer=600_000, lookback=60_000, step=60_000, **params
            ).json()
            series = data["metrics"]
            total = sum(m["metricPoints"][-1]["gaugeValue"]["doubleValue"] * 600 for m in series if m["metricPoints"])
            return round(total) >= expected

        wait_for(counted, timeout=10, what=f"{expected} call(s) of {service} counted")

    def service_stored(self, service: str) -> None:
        """Wait until the query API lists ``service``: spans are counted on arrival but stored a delivery later."""

        def listed() -> bool:
            answer = requests.get(self.url("jaeger_query", "/api/services"), timeout=10).json()
            return service in (answer["data"] or [])

        wait_for(listed, timeout=10, what=f"{service} stored")


def build_config(storage: str, url: str | None, extra: dict[str, Any] | None = None):
    tree = read(None)
    apply_flags(tree, storage, url, None, dict.fromkeys(PORTS, 0))  # 0: the kernel picks, no race for a port
    set_path(tree, "processors.spanmetrics.flush_interval", "200ms", "test")
    # a persistent queue of its own: several backends run in this process at once, and not in the repository
    set_path(tree, "extensions.file_storage.directory", tempfile.mkdtemp(prefix="spm-queue-"), "test")
    for path, value in (extra or {}).items():
        set_path(tree, path, value, "test")
    return from_mapping(tree, "test config")


@pytest.fixture
def start_backend() -> Iterator[Callable[..., Backend]]:
    """``start_backend(storage, url=None, extra={"dotted.path": value})`` → a started backend, stopped at the end."""
    started: list[BackendService] = []

    def start(storage: str = "memory", url: str | None = None, extra: dict[str, Any] | None = None) -> Backend:
        service = BackendService(build_config(storage, url, extra))
        started.append(service)
        service.start()
        return Backend(service)

    yield start
    for service in started:
        service.shutdown()


@pytest.fixture(scope="module")
def shared_backend() -> Iterator[Backend]:
    """One memory backend for a module whose tests each use their own service names."""
    service = BackendService(build_config("memory", None))
    service.start()
    yield Backend(service)
    service.shutdown()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"
