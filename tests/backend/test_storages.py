"""The backend end to end on each persistent storage the CLI offers: SQLite, PostgreSQL, a Redis Cluster."""

from __future__ import annotations

import time

import requests
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.backend.clients import post_otlp, sdk_spans, span_count, trace_hex
from tests.builders import SpanSpec, export_request
from tests.storage import redis_setup
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


def test_a_redis_cluster_from_the_storage_flags(start_backend, redis_cluster):
    prefix = redis_setup.unique_prefix()
    try:
        backend = start_backend(
            "--storage", "redis", "--storage-url", redis_cluster.url,
            "--set", f"extensions.jaeger_storage.backends.main.redis.prefix={prefix}",
        )  # fmt: skip
        send_and_find(backend)
    finally:
        redis_setup.delete_prefix(prefix, redis_cluster.url)


def test_the_storage_extension_purges_spans_past_retention(start_backend, tmp_path):
    sql = f"{{sql: {{url: 'sqlite:///{tmp_path}/t.db', retention: 1h}}}}"
    backend = start_backend(
        "--set", f"extensions.jaeger_storage.backends.main={sql}",
        "--set", "extensions.jaeger_storage.purge_interval=100ms",
    )  # fmt: skip
    old = SpanSpec("customer", "old", start_ns=time.time_ns() - 2 * 3600 * 10**9)
    fresh = SpanSpec("customer", "fresh")
    body = export_request([old, fresh]).SerializeToString()
    assert post_otlp(backend.url("otlp-http", "/v1/traces"), body).status_code == 200
    wait_for(lambda: span_count(backend.url("query"), fresh.trace_id.hex()) == 1, timeout=10, what="the fresh span")
    purged = 'jaeger_storage_purged_spans_total{storage="main"} 1.0'
    wait_for(lambda: purged in requests.get(backend.url("metrics", "/metrics"), timeout=5).text, what="a purge")
    assert span_count(backend.url("query"), old.trace_id.hex()) == 0
