"""BackendService in-process: what ``hotrod all`` relies on (no global state, real bound ports)."""

from __future__ import annotations

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from backend.config import load
from backend.core.component import StartError
from backend.core.ports import ENDPOINTS
from backend.service import BackendService
from tests.backend.clients import post_otlp, span_count
from tests.builders import SpanSpec, export_request
from tests.support import wait_for

EPHEMERAL = [
    "extensions.jaeger_storage.backends.main={memory: {}}",
    *(f"{path}=127.0.0.1:0" for path, _, _ in ENDPOINTS.values()),  # every port the built-in config binds
]


@pytest.fixture
def services(tmp_path):
    started: list[BackendService] = []

    def start() -> BackendService:
        queue = f"extensions.file_storage.directory={tmp_path / f'queue-{len(started)}'}"  # one queue per backend
        service = BackendService(load(None, [*EPHEMERAL, queue]))
        started.append(service)
        service.start()
        return service

    yield start
    for service in started:
        service.shutdown()


def test_two_backends_run_side_by_side_in_one_process(services):
    first, second = services(), services()
    served = {"otlp/grpc", "otlp/http", "jaeger_query", "healthcheckv2", "metrics", "remote_sampling"}
    served |= {"remote_sampling/grpc", "zipkin", *(f"jaeger/{p}" for p in ("thrift_compact", "thrift_binary"))}
    served |= {"jaeger/thrift_http", "jaeger/grpc"}
    assert set(first.endpoints) == served
    assert not set(first.endpoints.values()) & set(second.endpoints.values())
    for port in (a.rpartition(":")[2] for a in first.endpoints.values()):
        assert port != "0"

    span = SpanSpec("frontend", "GET /")
    url = f"http://{first.endpoints['otlp/http']}/v1/traces"
    assert post_otlp(url, export_request([span]).SerializeToString()).status_code == 200
    first_query = f"http://{first.endpoints['jaeger_query']}"
    wait_for(lambda: span_count(first_query, span.trace_id.hex()) == 1, timeout=10, what="span in the first backend")
    assert span_count(f"http://{second.endpoints['jaeger_query']}", span.trace_id.hex()) == 0
    metrics = requests.get(f"http://{second.endpoints['metrics']}/metrics", timeout=5).text
    accepted = [
        sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "otelcol_receiver_accepted_spans_total"
    ]
    assert accepted and not any(accepted)  # every receiver of the second backend: its own registry saw nothing


def test_a_failed_start_releases_what_had_started(services, tmp_path):
    running = services()
    clash = [
        *EPHEMERAL,
        f"receivers.otlp.protocols.http.endpoint={running.endpoints['otlp/http']}",
        f"extensions.file_storage.directory={tmp_path / 'doomed'}",
    ]
    doomed = BackendService(load(None, clash))
    with pytest.raises(StartError, match="receivers.otlp.protocols.http.endpoint"):
        doomed.start()
    health = running.endpoints["healthcheckv2"]
    assert requests.get(f"http://{health}/", timeout=5).status_code == 200
    assert doomed.endpoints == {}


def test_shutdown_twice_is_harmless(services):
    service = services()
    service.shutdown()
    service.shutdown()
    assert service.status.value == "stopped"
