"""SIGTERM drains: whatever was answered 200 is in storage when the process exits."""

from __future__ import annotations

import signal

import pytest

from tests.backend.clients import post_otlp, span_count
from tests.builders import SpanSpec, export_request


def test_spans_acknowledged_before_sigterm_are_stored_after_restart(start_backend, tmp_path):
    args = (
        "--storage", "sqlite", "--storage-url", f"sqlite:///{tmp_path / 'traces.db'}",
        # a batch that would wait a minute: only the drain on shutdown can store it in time
        "--set", "processors.batch.timeout=60s", "--set", "processors.batch.send_batch_size=100000",
    )  # fmt: skip
    first = start_backend(*args)
    roots = [SpanSpec("customer", f"request {i}") for i in range(20)]
    for root in roots:
        body = export_request([root, root.child("mysql", "SELECT")]).SerializeToString()
        assert post_otlp(first.url("otlp-http", "/v1/traces"), body).status_code == 200
    assert span_count(first.url("query"), roots[0].trace_id.hex()) == 0  # still queued

    assert first.stop() == 0
    assert "stopped" in first.log

    second = start_backend(*args)
    for root in roots:
        assert span_count(second.url("query"), root.trace_id.hex()) == 2


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_stop_the_process_cleanly(start_backend, signum):
    backend = start_backend("--storage", "memory")
    backend.process.send_signal(signum)
    assert backend.process.wait(timeout=30) == 0
    assert "Traceback" not in backend.log
    assert "hotrod backend: stopped" in backend.log
