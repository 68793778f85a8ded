"""What the in-process stream tests share: backends started from a config mapping and shut down after the test."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from backend.config import from_mapping
from backend.service import BackendService


@pytest.fixture
def run() -> Iterator[Callable[[dict[str, Any]], BackendService]]:
    started: list[BackendService] = []

    def start(config: dict[str, Any]) -> BackendService:
        service = BackendService(from_mapping(config, f"tests/scaleout {uuid.uuid4().hex[:6]}"))
        service.start()
        started.append(service)
        return service

    yield start
    for service in reversed(started):
        service.shutdown()
