"""The ``otlp_forward`` exporter, between two real backend processes, as compose's `jaeger` profile uses it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.backend.clients import query_trace, sdk_spans, span_count, trace_hex
from tests.backend.conftest import Launcher
from tests.support import wait_for

REPO = Path(__file__).resolve().parents[2]
FORWARDING_CONFIG = REPO / "deploy" / "backend" / "postgres-jaeger.yaml"


@pytest.fixture
def backends(tmp_path: Path) -> Iterator[Launcher]:
    launcher = Launcher(tmp_path)
    yield launcher
    launcher.close()


def forwarding_backend(backends: Launcher, endpoint: str, *extra: str):
    """The compose forwarding config, on memory storage and loopback, forwarding to ``endpoint``."""
    return backends(
        "--config", str(FORWARDING_CONFIG), "--storage", "memory", "--bind", "127.0.0.1",
        "--set", f"exporters.otlp_forward.endpoint={endpoint}",
        *extra,
    )  # fmt: skip


@contextmanager
def logs_on_failure(**backends) -> Iterator[None]:
    """A failed assertion also shows what the backends logged (slow machines fail in new ways)."""
    try:
        yield
    except AssertionError as exc:
        logs = "\n".join(f"--- {name} log:\n{backend.log[-3000:]}" for name, backend in backends.items())
        raise AssertionError(f"{exc}\n{logs}") from exc


def export(backend, service: str) -> str:
    spans = sdk_spans(service, children=3)
    exporter = OTLPSpanExporter(endpoint=backend.url("otlp-http", "/v1/traces"))
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    exporter.shutdown()
    return trace_hex(spans)


def metric(backend, name: str, exporter: str) -> float:
    """One sample of the backend's own /metrics, 0 when absent."""
    text = requests.get(backend.url("metrics", "/metrics"), timeout=5).text
    line = f'{name}{{exporter="{exporter}"}} '
    values = [float(row[len(line) :]) for row in text.splitlines() if row.startswith(line)]
    return values[0] if values else 0.0


def test_every_span_is_stored_here_and_forwarded_to_the_peer_unchanged(backends: Launcher) -> None:
    peer = backends("--storage", "memory")
    forwarder = forwarding_backend(backends, peer.url("otlp-http"))
    with logs_on_failure(forwarder=forwarder, peer=peer):
        trace_id = export(forwarder, "forwarded-service")
        wait_for(lambda: span_count(peer.url("query"), trace_id) == 4, timeout=30, what="the forwarded trace")
        wait_for(lambda: span_count(forwarder.url("query"), trace_id) == 4, timeout=30, what="the local trace")
        here = query_trace(forwarder.url("query"), trace_id)
        there = query_trace(peer.url("query"), trace_id)
        assert sorted(here["spans"], key=lambda s: s["spanID"]) == sorted(there["spans"], key=lambda s: s["spanID"])
        assert here["processes"] == there["processes"]
        wait_for(lambda: metric(forwarder, "otelcol_exporter_sent_spans_total", "otlp_forward") == 4, timeout=20)


def test_an_unreachable_peer_costs_bounded_retries_counted_as_failures_and_never_storage(
    backends: Launcher, refusing_port: int
) -> None:
    closed = f"http://127.0.0.1:{refusing_port}"
    forwarder = forwarding_backend(
        backends, closed,
        "--set", "exporters.otlp_forward.retry_on_failure="
        "{initial_interval: 50ms, multiplier: 1, randomization_factor: 0, max_elapsed_time: 200ms}",
    )  # fmt: skip
    trace_id = export(forwarder, "unforwarded-service")

    wait_for(lambda: span_count(forwarder.url("query"), trace_id) == 4, timeout=20, what="the trace stored locally")
    wait_for(
        lambda: metric(forwarder, "otelcol_exporter_send_failed_spans_total", "otlp_forward") == 4,
        timeout=20,
        what="the 4 undeliverable spans counted",
    )
    assert "gave up on 4 span(s)" in forwarder.log
    assert 1 <= forwarder.log.count("retrying in") <= 4  # waits of 50 ms within 200 ms


def test_a_peer_that_rejects_the_request_is_not_retried(backends: Launcher) -> None:
    peer = backends("--storage", "memory")
    forwarder = forwarding_backend(backends, peer.url("query", "/not-an-otlp-path"))
    export(forwarder, "rejected-service")

    wait_for(
        lambda: metric(forwarder, "otelcol_exporter_send_failed_spans_total", "otlp_forward") == 4,
        timeout=20,
        what="the rejected spans counted",
    )
    assert "retrying in" not in forwarder.log
    assert "answered 404" in forwarder.log


@pytest.mark.parametrize(
    "endpoint, error",
    [("jaeger:4318", "expected an http(s) URL"), ("http://", "expected an http(s) URL")],
)
def test_a_forwarding_endpoint_that_is_not_a_url_is_a_config_error(tmp_path: Path, endpoint: str, error: str) -> None:
    from tests.backend.conftest import run_backend

    result = run_backend(
        "--config", str(FORWARDING_CONFIG), "--set", f"exporters.otlp_forward.endpoint={endpoint}", cwd=tmp_path
    )
    assert result.returncode == 2
    assert "exporters.otlp_forward.endpoint" in result.stderr and error in result.stderr
