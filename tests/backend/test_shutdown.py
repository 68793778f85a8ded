"""SIGTERM drains: whatever was answered 200 is in storage when the process exits."""

from __future__ import annotations

import signal
import sqlite3

import pytest

from tests.backend.clients import post_otlp, span_count
from tests.builders import SpanSpec, export_request


def test_spans_acknowledged_before_sigterm_are_stored_after_restart_from_an_in_memory_queue(start_backend, tmp_path):
    database = tmp_path / "traces.db"
    args = (
        "--storage", "sqlite", "--storage-url", f"sqlite:///{database}",
        "--set", "exporters.jaeger_storage_exporter.sending_queue.storage=''",  # in memory: only the drain stores it
    )  # fmt: skip
    first = start_backend(*args)
    lock = sqlite3.connect(database, isolation_level=None, timeout=30)
    lock.execute("BEGIN EXCLUSIVE")  # the writes wait behind the test's lock
    roots = [SpanSpec("customer", f"request {i}") for i in range(20)]
    for root in roots:
        body = export_request([root, root.child("mysql", "SELECT")]).SerializeToString()
        assert post_otlp(first.url("otlp-http", "/v1/traces"), body).status_code == 200
    lock.execute("ROLLBACK")
    lock.close()
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
