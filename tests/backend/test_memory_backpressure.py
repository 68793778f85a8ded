"""The memory store refuses with 429 / RESOURCE_EXHAUSTED once it falls behind, and loses nothing it accepted.

A real backend (the built-in config, in-process, with the memory store and its persistent sending queue);
the store is made to fall behind by holding its lock, as a write in progress would.
"""

from __future__ import annotations

import functools

import grpc
import pytest

from backend.config import load
from backend.extensions.storage.extension import StorageExtension
from backend.service import BackendService
from backend.storage.memory.store import MemoryStorage
from tests.backend.clients import grpc_export, post_otlp, span_count
from tests.backend.test_service import EPHEMERAL
from tests.builders import SpanSpec, export_request
from tests.support import wait_for

PENDING = 30
BATCH = 10


@pytest.fixture
def backend(tmp_path):
    overrides = [
        *EPHEMERAL,
        f"extensions.jaeger_storage.backends.main={{memory: {{max_pending_spans: {PENDING}}}}}",
        f"extensions.file_storage.directory={tmp_path / 'queue'}",
        f"exporters.jaeger_storage_exporter.sending_queue.batch.max_size={BATCH}",
        "exporters.jaeger_storage_exporter.sending_queue.retry_after=3s",
    ]
    service = BackendService(load(None, overrides))
    service.start()
    yield service
    service.shutdown()


def memory_store(service: BackendService) -> MemoryStorage:
    extension = service.extension("jaeger_storage")
    assert isinstance(extension, StorageExtension)
    storage = extension.storage("main")
    assert isinstance(storage, MemoryStorage)
    return storage


def one_trace() -> tuple[str, bytes]:
    root = SpanSpec("frontend", "GET /dispatch")
    specs = [root, *(root.child("frontend", f"step {i}") for i in range(BATCH - 1))]
    return root.trace_id.hex(), export_request(specs).SerializeToString()


def test_a_store_that_falls_behind_refuses_with_429_and_keeps_what_it_accepted(backend):
    url = f"http://{backend.endpoints['otlp/http']}/v1/traces"
    query = f"http://{backend.endpoints['jaeger_query']}"
    accepted: list[str] = []
    store_lock = memory_store(backend)._lock  # the store busy: every write waits
    with store_lock:
        for _ in range(PENDING // BATCH + 3):
            trace_id, body = one_trace()
            response = post_otlp(url, body)
            if response.status_code != 200:
                break
            accepted.append(trace_id)

        assert response.status_code == 429, response.text
        assert "max_pending_spans" in response.text
        assert response.headers["Retry-After"] == "3"
        assert len(accepted) == PENDING // BATCH  # everything up to the bound was taken
        with pytest.raises(grpc.RpcError) as caught:
            grpc_export(backend.endpoints["otlp/grpc"], one_trace()[1])
        assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED

    trace_id, body = one_trace()
    wait_for(lambda: post_otlp(url, body).status_code == 200, timeout=20, what="the receiver to accept again")
    for tid in [*accepted, trace_id]:
        wait_for(functools.partial(_stored_whole, query, tid), timeout=20, what=f"trace {tid} stored")


def _stored_whole(query: str, trace_id: str) -> bool:
    return span_count(query, trace_id) == BATCH
