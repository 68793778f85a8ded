"""Health and self-metrics: what orchestrators and dashboards read."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from backend.core.component import Status
from backend.extensions.health.extension import HealthApp
from tests.backend.clients import post_otlp, span_count
from tests.builders import SpanSpec, export_request
from tests.support import wait_for


def samples(backend) -> dict[tuple[str, tuple], float]:
    text = requests.get(backend.url("metrics", "/metrics"), timeout=5).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_health_answers_200_with_json_when_ready(start_backend):
    backend = start_backend("--storage", "memory")
    for path in ("/", "/status"):
        response = requests.get(backend.url("health", path), timeout=5)
        assert response.status_code == 200
        assert response.json()["status"] == "ready"
        assert response.json()["healthy"] is True


class _Host:
    def __init__(self, status: Status) -> None:
        self.status = status

    def problems(self) -> dict[str, str]:
        return {}

    def extensions(self) -> dict:
        return {}


@pytest.mark.parametrize("status", [Status.STARTING, Status.STOPPING])
def test_health_answers_503_while_starting_or_stopping(status):
    answers = []
    body = HealthApp(_Host(status))({"PATH_INFO": "/status", "REQUEST_METHOD": "GET"}, lambda s, h: answers.append(s))
    assert answers == ["503 Service Unavailable"]
    assert status.value.encode() in body[0]


def test_metrics_count_received_rejected_and_stored_spans(start_backend):
    backend = start_backend("--storage", "memory")
    root = SpanSpec("frontend", "GET /dispatch")
    specs = [root, root.child("frontend", "step"), SpanSpec("frontend", "bad", span_id=bytes(8))]
    assert post_otlp(backend.url("otlp-http", "/v1/traces"), export_request(specs).SerializeToString()).ok
    assert post_otlp(backend.url("otlp-http", "/v1/traces"), b"\xff garbage").status_code == 400
    wait_for(lambda: span_count(backend.url("query"), root.trace_id.hex()) == 2, timeout=10, what="2 spans stored")

    http = (("receiver", "otlp"), ("transport", "http"))
    exporter = (("exporter", "jaeger_storage_exporter"),)
    found: dict[tuple[str, tuple[Any, ...]], float] = wait_for(
        lambda: (s := samples(backend)).get(("otelcol_exporter_sent_spans_total", exporter)) == 2 and s or {},
        timeout=10,
        what="the stored-spans counter",
    )
    assert found[("otelcol_receiver_accepted_spans_total", http)] == 2
    assert found[("otelcol_receiver_rejected_spans_total", http)] == 1
    assert found[("otelcol_receiver_failed_requests_total", tuple(sorted((*http, ("reason", "malformed")))))] == 1
    assert found[("otelcol_exporter_queue_size", exporter)] == 0
    assert found[("otelcol_exporter_queue_capacity", exporter)] == 200_000
    assert found[("jaeger_storage_up", (("storage", "main"),))] == 1
    assert found[("otelcol_exporter_storage_write_seconds_count", exporter)] >= 1
    assert ("otelcol_exporter_send_failed_spans_total", exporter) in found
