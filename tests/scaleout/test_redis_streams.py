"""Collectors feeding ingesters through a Redis stream: delivery, back-pressure, takeover of a dead ingester's entries.

Each role is an ordinary backend config (in-process here): a collector is
OTLP in → ``redis_streams`` exporter; an ingester is ``redis_streams``
receiver → storage, with the query API on that storage.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
import requests

from backend.config import from_mapping
from backend.service import BackendService
from backend.streams.span_stream import FIELD
from tests.builders import SpanSpec, export_request
from tests.storage import redis_setup
from tests.support import ANY_PORT, wait_for


def collector_config(stream: str, max_len: int = 1000) -> dict:
    return {
        "service": {
            "extensions": [],
            "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["redis_streams"]}},
            "telemetry": {"metrics": {"address": ANY_PORT}},
        },
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": ANY_PORT}}}},
        "exporters": {"redis_streams": {"url": redis_setup.REDIS_URL, "stream": stream, "max_len": max_len}},
    }


def ingester_config(stream: str, name: str, claim_idle: str = "30s") -> dict:
    return {
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query"],
            "pipelines": {"traces": {"receivers": ["redis_streams"], "exporters": ["jaeger_storage_exporter"]}},
            "telemetry": {"metrics": {"address": ANY_PORT}},
        },
        "extensions": {
            "jaeger_storage": {"backends": {"main": {"memory": {}}}},
            "jaeger_query": {"storage": {"traces": "main"}, "http": {"endpoint": ANY_PORT}},
        },
        "receivers": {
            "redis_streams": {
                "url": redis_setup.REDIS_URL,
                "stream": stream,
                "consumer": name,
                "claim_idle": claim_idle,
                "claim_interval": "100ms",
                "block": "100ms",
            }
        },
        "exporters": {"jaeger_storage_exporter": {"trace_storage": "main"}},
    }


@pytest.fixture
def stream() -> Iterator[str]:
    name = f"{redis_setup.unique_prefix()}:spans"
    yield name
    client = redis.Redis.from_url(redis_setup.REDIS_URL)
    client.delete(name)
    client.close()


@pytest.fixture
def run() -> Iterator:
    started: list[BackendService] = []

    def start(config: dict) -> BackendService:
        service = BackendService(from_mapping(config, f"tests/scaleout {uuid.uuid4().hex[:6]}"))
        service.start()
        started.append(service)
        return service

    yield start
    for service in reversed(started):
        service.shutdown()


def send(collector: BackendService, *specs: SpanSpec) -> requests.Response:
    return requests.post(
        f"http://{collector.endpoints['otlp/http']}/v1/traces",
        data=export_request(list(specs)).SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
        timeout=5,
    )


def stream_length(name: str) -> int:
    client = redis.Redis.from_url(redis_setup.REDIS_URL)
    try:
        return client.xlen(name)
    finally:
        client.close()


def span_count(ingester: BackendService, trace_id: bytes) -> int:
    response = requests.get(f"http://{ingester.endpoints['jaeger_query']}/api/traces/{trace_id.hex()}", timeout=5)
    return len(response.json()["data"][0]["spans"]) if response.status_code == 200 else 0


def test_spans_sent_to_a_collector_are_stored_by_an_ingester(stream: str, run):  # noqa: ANN001
    collector = run(collector_config(stream))
    ingester = run(ingester_config(stream, "ingester-1"))
    root = SpanSpec("frontend", "GET /dispatch")

    assert send(collector, root, root.child("driver", "FindNearest")).status_code == 200

    wait_for(lambda: span_count(ingester, root.trace_id) == 2, timeout=10, what="both spans stored by the ingester")


def test_a_full_stream_makes_the_collector_refuse_with_a_retryable_status(stream: str, run):  # noqa: ANN001
    collector = run(collector_config(stream, max_len=1))

    first = send(collector, SpanSpec("frontend", "op"))
    second = send(collector, SpanSpec("frontend", "op"))

    assert first.status_code == 200
    assert second.status_code == 429
    assert "Retry-After" in second.headers


def test_entries_left_pending_by_a_dead_ingester_are_claimed_by_another(stream: str, run):  # noqa: ANN001
    collector = run(collector_config(stream))
    root = SpanSpec("frontend", "GET /dispatch")
    assert send(collector, root).status_code == 200
    client = redis.Redis.from_url(redis_setup.REDIS_URL)
    client.xgroup_create(stream, "ingesters", id="0")
    taken = client.xreadgroup("ingesters", "dead-ingester", {stream: ">"}, count=10)  # read, never acknowledged
    client.close()
    assert FIELD in taken[0][1][0][1]

    survivor = run(ingester_config(stream, "ingester-2", claim_idle="200ms"))

    wait_for(lambda: span_count(survivor, root.trace_id) == 1, timeout=10, what="the dead ingester's entry stored")
    wait_for(lambda: stream_length(stream) == 0, timeout=5, what="the entry acknowledged and removed")
