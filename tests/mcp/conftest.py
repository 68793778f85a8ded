"""A real ``hotrod backend`` (the shipped default config, MCP on) that tests send OTLP to and query over MCP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.backend.conftest import BackendProcess
from tests.builders import SpanSpec, export_request
from tests.support import wait_for


@dataclass
class Backend:
    process: BackendProcess

    @property
    def mcp(self) -> str:
        return self.process.url("query", "/api/ai/mcp")

    def url(self, path: str) -> str:
        return self.process.url("query", path)

    def store(self, *specs: SpanSpec) -> str:
        """Send the spans over OTLP/HTTP and wait until their trace is readable whole; its id."""
        body = export_request(list(specs)).SerializeToString()
        reply = requests.post(
            self.process.url("otlp-http", "/v1/traces"),
            data=body,
            headers={"Content-Type": "application/x-protobuf"},
            timeout=10,
        )
        reply.raise_for_status()
        trace_id = specs[0].trace_id.hex()

        def stored() -> bool:
            answer = requests.get(self.url(f"/api/traces/{trace_id}"), timeout=5)
            return answer.status_code == 200 and len(answer.json()["data"][0]["spans"]) == len(specs)

        wait_for(stored, timeout=20, what=f"trace {trace_id} stored")
        return trace_id


def start_backend(workdir: Path, *args: str) -> BackendProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    return BackendProcess(workdir, list(args)).start()


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    process = start_backend(tmp_path_factory.mktemp("mcp-backend"))
    yield Backend(process)
    assert process.stop() == 0, process.log
