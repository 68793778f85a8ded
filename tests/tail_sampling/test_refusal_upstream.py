"""A real pipeline: while the exporter after tail_sampling fails, its sampled traces stay held and OTLP gets 429."""

from __future__ import annotations

import requests

from backend.config import from_mapping
from backend.processors.tail_sampling import processor as tail_processor
from backend.service import BackendService
from tests.builders import export_request
from tests.support import free_port
from tests.tail_sampling.support import trace


def test_a_failing_exporter_makes_the_receiver_answer_429_instead_of_losing_sampled_traces(monkeypatch) -> None:
    monkeypatch.setattr(tail_processor, "SHUTDOWN_RETRY_S", 0.1)  # the exporter stays dead: shutdown gives up soon
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    config = {
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": "127.0.0.1:0"}}}},
        "processors": {
            "tail_sampling": {
                "decision_wait": "1h",
                "num_traces": 2,
                "policies": [{"name": "all", "type": "always_sample"}],
            }
        },
        # no sending queue and no retries: the export fails in tail_sampling's own delivery
        "exporters": {
            "otlp_forward": {
                "endpoint": dead,
                "sending_queue": {"enabled": False},
                "retry_on_failure": {"enabled": False},
            }
        },
        "service": {
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": ["tail_sampling"], "exporters": ["otlp_forward"]}
            },
            "telemetry": {"metrics": {"level": "none"}},
        },
    }
    service = BackendService(from_mapping(config, "test config"))
    service.start()
    try:
        url = f"http://{service.endpoints['otlp/http']}/v1/traces"
        answers = []
        for _ in range(3):
            body = export_request(trace()).SerializeToString()
            reply = requests.post(url, data=body, headers={"Content-Type": "application/x-protobuf"}, timeout=10)
            answers.append(reply.status_code)
        assert answers == [200, 200, 429]  # the third trace finds both held ones sampled and waiting
        assert "Retry-After" in reply.headers
        registry = service.metrics.registry
        assert registry.get_sample_value("otelcol_processor_dropped_spans_total", {"processor": "tail_sampling"}) == 0
        assert (
            registry.get_sample_value(
                "otelcol_processor_tail_sampling_sampling_traces_on_memory", {"processor": "tail_sampling"}
            )
            == 2
        )
    finally:
        service.shutdown()
