"""remote_sampling and adaptive_sampling inside a real backend, fed by the OTel SDK with our sampler."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from backend.config import load
from backend.core.binding import ConfigError
from backend.extensions.storage.extension import find_storage
from backend.service import BackendService
from backend.storage.api import TraceQuery
from hotrod.sampling import JaegerRemoteSampler
from tests.support import on_any_port, wait_for

BASE = [
    "extensions.jaeger_storage.backends.main={memory: {max_traces: 200000}}",
    "exporters.jaeger_storage_exporter.sending_queue.storage=''",  # in memory: these backends run in this process
    "service.pipelines.traces.processors=[]",
    *on_any_port("otlp-grpc", "otlp-http", "query", "health", "metrics"),
    "service.extensions=[jaeger_storage, jaeger_query, healthcheckv2, remote_sampling]",
]
ADAPTIVE = (
    "extensions.remote_sampling={http: {endpoint: '127.0.0.1:0'}, adaptive: {sampling_store: main,"
    " target_samples_per_second: 10, delta_tolerance: 0.2, calculation_interval: 2s, calculation_buckets: 3,"
    " calculation_delay: 0s, initial_sampling_probability: 1.0, follower_probability_refresh_interval: 200ms}}"
)


@pytest.fixture
def backend(request) -> Iterator[BackendService]:
    service = BackendService(load(None, [*BASE, *request.param]))
    service.start()
    yield service
    service.shutdown()


def served(service: BackendService, name: str) -> dict:
    url = f"http://{service.endpoints['remote_sampling']}/api/sampling"
    return requests.get(url, params={"service": name}, timeout=5).json()


@pytest.mark.parametrize(
    "backend",
    [[ADAPTIVE, "processors.adaptive_sampling={}", "service.pipelines.traces.processors=[adaptive_sampling]"]],
    indirect=True,
)
def test_adaptive_loop_converges_on_the_target(backend: BackendService) -> None:
    sampler = JaegerRemoteSampler(
        "loadtest", endpoint=f"http://{backend.endpoints['remote_sampling']}/sampling", polling_interval_s=0.2
    )
    provider = TracerProvider(
        sampler=sampler, resource=Resource.create({"service.name": "loadtest"}), shutdown_on_exit=False
    )
    exporter = OTLPSpanExporter(endpoint=f"http://{backend.endpoints['otlp/http']}/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=100))
    tracer = provider.get_tracer("load")
    requests_made = 0

    def run(seconds: float, per_second: int = 300) -> None:
        nonlocal requests_made
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            tick = time.monotonic()
            for _ in range(per_second // 10):
                with tracer.start_as_current_span("GET /dispatch"):
                    requests_made += 1
            time.sleep(max(0.0, 0.1 - (time.monotonic() - tick)))

    try:
        run(6)  # convergence
        assert sampler.probability_for("GET /dispatch") < 0.2
        start_ns, made_before = time.time_ns(), requests_made
        run(12)
        end_ns = time.time_ns()
        provider.force_flush()
        reader = find_storage(backend, "main", "test").reader()
        query = TraceQuery(
            service="loadtest", operation="GET /dispatch", start_min_ns=start_ns, start_max_ns=end_ns, limit=100_000
        )
        counts: list[int] = []

        def settled() -> bool:  # accepted is not yet stored: wait until the count stops growing
            counts.append(len(reader.find_trace_ids(query)))
            return len(counts) > 1 and counts[-1] > 0 and counts[-1] == counts[-2]

        wait_for(settled, timeout=15, interval=0.5, what="stored traces to settle")
        stored = reader.find_trace_ids(query)
        seconds = (end_ns - start_ns) / 1e9
        stored_rate, request_rate = len(stored) / seconds, (requests_made - made_before) / seconds
        assert request_rate >= 20 * 10
        assert 7.5 <= stored_rate <= 12.5, (stored_rate, request_rate)

        def applies_what_is_served() -> bool:  # the sampler takes a new probability at its next poll
            strategy = served(backend, "loadtest")["operationSampling"]["perOperationStrategies"]
            rate = {s["operation"]: s["probabilisticSampling"]["samplingRate"] for s in strategy}["GET /dispatch"]
            return sampler.probability_for("GET /dispatch") == pytest.approx(rate)

        wait_for(applies_what_is_served, timeout=5, what="the sampler to apply the served probability")
    finally:
        sampler.close()
        provider.shutdown()


@pytest.fixture
def strategies_file(tmp_path: Path) -> Path:
    path = tmp_path / "strategies.json"
    path.write_text(json.dumps({"default_strategy": {"type": "probabilistic", "param": 0.2}}))
    return path


def test_file_strategies_are_served_on_the_sampling_port(strategies_file: Path) -> None:
    overrides = [
        *BASE,
        f"extensions.remote_sampling={{file: {{path: '{strategies_file}'}}, http: {{endpoint: '127.0.0.1:0'}}}}",
    ]
    service = BackendService(load(None, overrides))
    service.start()
    try:
        assert served(service, "anyone") == {
            "strategyType": "PROBABILISTIC",
            "probabilisticSampling": {"samplingRate": 0.2},
        }
    finally:
        service.shutdown()


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [
        ("extensions.remote_sampling={}", "exactly one of file or adaptive"),
        ("extensions.remote_sampling={adaptive: {sampling_store: main, delta_tolerance: -1}}", "delta_tolerance"),
        ("extensions.remote_sampling={adaptive: {}}", "sampling_store"),
        (
            "extensions.remote_sampling={adaptive: {sampling_store: main, leader_lease_refresh_interval: 60s}}",
            "leader_lease_refresh_interval.*renews it before it expires",
        ),
        ("extensions.remote_sampling={file: {}, grpc: {endpoint: 'nowhere'}}", "grpc.endpoint"),
    ],
)
def test_configuration_mistakes_are_located(setting: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        load(None, [*BASE, setting])


def test_adaptive_processor_without_the_extension_fails_at_start() -> None:
    overrides = [
        *BASE[:-1],
        "service.extensions=[jaeger_storage, jaeger_query, healthcheckv2]",
        "processors.adaptive_sampling={}",
        "service.pipelines.traces.processors=[adaptive_sampling]",
    ]
    service = BackendService(load(None, overrides))
    with pytest.raises(ConfigError, match="remote_sampling"):
        service.start()
    service.shutdown()
