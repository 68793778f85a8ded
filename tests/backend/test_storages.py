"""The backend end to end on each persistent storage the CLI offers: SQLite and PostgreSQL."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.backend.clients import sdk_spans, span_count, trace_hex
from tests.support import wait_for


def send_and_find(backend) -> None:
    spans = sdk_spans("customer", children=4)
    assert OTLPSpanExporter(endpoint=backend.url("otlp-http", "/v1/traces")).export(spans) is SpanExportResult.SUCCESS
    wait_for(lambda: span_count(backend.url("query"), trace_hex(spans)) == 5, timeout=15, what="5 spans stored")


def test_sqlite_from_the_storage_flags(start_backend, tmp_path):
    backend = start_backend("--storage", "sqlite", "--storage-url", f"sqlite:///{tmp_path}/db/traces.db")
    send_and_find(backend)
    assert (tmp_path / "db" / "traces.db").exists()


def test_postgresql_in_a_schema_of_its_own(start_backend, postgres_url):
    url, schema = postgres_url
    backend = start_backend(
        "--set", f"extensions.jaeger_storage.backends.main={{sql: {{url: '{url}', schema: {schema}}}}}"
    )
    send_and_find(backend)
