"""BACKEND_STORAGE switches the compose backend's storage: each choice starts natively and keeps a trace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.backend.clients import sdk_spans, span_count, trace_hex
from tests.deploy import native
from tests.deploy.manifests import compose_services
from tests.support import wait_for


@pytest.fixture(params=["sqlite", "memory"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, native.Translation]]:
    storage = request.param
    services = {"backend": compose_services({"BACKEND_STORAGE": storage})["backend"]}
    translation = native.Translation(
        services=list(compose_services()), postgres_url="", redis_url="", redis_prefix="", workdir=tmp_path
    )
    started = native.start(services, translation)
    yield storage, translation
    assert native.stop(started) == {"backend": 0}, started[0].log_text()


def test_the_chosen_storage_keeps_what_the_backend_receives(backend: tuple[str, native.Translation]) -> None:
    storage, stack = backend
    spans = sdk_spans(f"switched-to-{storage}", children=2)
    exporter = OTLPSpanExporter(endpoint=stack.url("backend", 4318, "/v1/traces"))
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    exporter.shutdown()

    wait_for(lambda: span_count(stack.url("backend", 16686), trace_hex(spans)) == 3, timeout=20, what="the trace")
    sqlite_file = stack.data_dir("backend") / "traces.db"
    assert sqlite_file.exists() == (storage == "sqlite"), "SQLite writes into the backend-data volume, memory nowhere"
