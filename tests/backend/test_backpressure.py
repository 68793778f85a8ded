"""Back-pressure: when storage stalls, a full sending queue refuses at once (429 / RESOURCE_EXHAUSTED), then recovers.

The stall is real: the test holds SQLite's write lock on the backend's own file.
"""

from __future__ import annotations

import functools
import sqlite3

import grpc
import pytest

from tests.backend.clients import grpc_export, post_otlp, span_count
from tests.builders import SpanSpec, export_request
from tests.support import wait_for

QUEUE = 20
BATCH = 10


@pytest.fixture
def stalled(start_backend, tmp_path):
    """A backend on a SQLite file whose write lock the test holds; yields (backend, lock connection)."""
    database = tmp_path / "traces.db"
    backend = start_backend(
        "--storage", "sqlite", "--storage-url", f"sqlite:///{database}",
        "--set", f"exporters.jaeger_storage_exporter.sending_queue.queue_size={QUEUE}",
        "--set", f"exporters.jaeger_storage_exporter.sending_queue.batch.max_size={BATCH}",
        "--set", "exporters.jaeger_storage_exporter.sending_queue.retry_after=2s",
        "--set", "exporters.jaeger_storage_exporter.retry_on_failure.max_interval=100ms",
    )  # fmt: skip
    lock = sqlite3.connect(database, isolation_level=None, timeout=30)
    lock.execute("BEGIN EXCLUSIVE")
    yield backend, lock
    lock.close()


def one_trace(spans: int = BATCH) -> tuple[str, bytes]:
    root = SpanSpec("frontend", "GET /dispatch")
    specs = [root, *(root.child("frontend", f"step {i}") for i in range(spans - 1))]
    return root.trace_id.hex(), export_request(specs).SerializeToString()


def test_a_full_queue_refuses_with_429_and_retry_after_then_recovers(stalled):
    backend, lock = stalled
    url = backend.url("otlp-http", "/v1/traces")
    accepted = []
    for _ in range(QUEUE // BATCH + 3):  # QUEUE spans queued (one batch of them in the stalled write), then refusals
        trace_id, body = one_trace()
        response = post_otlp(url, body)
        if response.status_code == 200:
            accepted.append(trace_id)
        else:
            break
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert len(accepted) >= QUEUE // BATCH
    with pytest.raises(grpc.RpcError) as caught:
        grpc_export(backend.grpc_target, one_trace()[1])
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED

    lock.execute("ROLLBACK")
    trace_id, body = one_trace()
    wait_for(lambda: post_otlp(url, body).status_code == 200, timeout=20, what="the receiver to accept again")
    for tid in [*accepted, trace_id]:
        wait_for(functools.partial(_stored_whole, backend.url("query"), tid), timeout=20, what=f"trace {tid} stored")


def _stored_whole(query: str, trace_id: str) -> bool:
    return span_count(query, trace_id) == BATCH
