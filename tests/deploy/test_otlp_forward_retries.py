"""The ``otlp_forward`` exporter's retry rules, against a small real HTTP server that answers as told."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from backend.core.component import Refused, Settings
from backend.core.selfmetrics import SelfMetrics
from backend.exporters.otlp_forward.exporter import FACTORY
from tests.builders import SpanSpec, batch_of


class Peer(ThreadingHTTPServer):
    """Answers each POST with the next scripted (status, headers), then 200; keeps what it received."""

    def __init__(self, script: list[tuple[int, dict[str, str]]]) -> None:
        self.script = list(script)
        self.received: list[tuple[float, str, bytes]] = []
        super().__init__(("127.0.0.1", 0), PeerHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class PeerHandler(BaseHTTPRequestHandler):
    server: Peer

    def do_POST(self) -> None:  # noqa: N802 - the http.server naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((time.monotonic(), self.headers["Content-Type"], body))
        status, headers = self.server.script.pop(0) if self.server.script else (200, {})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def peer(request: pytest.FixtureRequest) -> Iterator[Peer]:
    server = Peer(request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def exporter(endpoint: str, metrics: SelfMetrics, **retry: object):
    """Without a sending queue, so that ``consume`` returns (or raises) once the retries are over."""
    options = FACTORY.options(
        {
            "endpoint": endpoint,
            "sending_queue": {"enabled": False},
            "retry_on_failure": {"initial_interval": "10ms", "randomization_factor": 0, "multiplier": 2, **retry},
        },
        "test: exporters.otlp_forward",
    )
    settings = Settings("otlp_forward", "test", metrics, logging.getLogger("test.otlp_forward"))
    created = FACTORY.create(settings, options)
    created.start(host=None)
    return created


def counted(metrics: SelfMetrics, name: str) -> float:
    return metrics.registry.get_sample_value(name, {"exporter": "otlp_forward"}) or 0.0


def two_services() -> list[SpanSpec]:
    root = SpanSpec("frontend", "GET /dispatch")
    return [root, root.child("customer", "SQL SELECT"), root.child("customer", "GET /customer")]


@pytest.mark.parametrize("peer", [[(503, {}), (429, {"Retry-After": "0.3"})]], indirect=True)
def test_retryable_answers_are_retried_honouring_retry_after(peer: Peer) -> None:
    metrics = SelfMetrics()
    forward = exporter(peer.url, metrics)
    forward.consume(batch_of(two_services()))

    assert len(peer.received) == 3
    assert peer.received[2][0] - peer.received[1][0] >= 0.3
    assert counted(metrics, "otelcol_exporter_sent_spans_total") == 3


@pytest.mark.parametrize("peer", [[(400, {})]], indirect=True)
def test_a_rejected_request_is_given_up_at_once_and_counted(peer: Peer) -> None:
    metrics = SelfMetrics()
    forward = exporter(peer.url, metrics)
    with pytest.raises(Refused, match="answered 400"):
        forward.consume(batch_of(two_services()))
    assert len(peer.received) == 1
    assert counted(metrics, "otelcol_exporter_send_failed_spans_total") == 3


@pytest.mark.parametrize("peer", [[(503, {})] * 20], indirect=True)
def test_retries_stop_at_max_elapsed_time(peer: Peer) -> None:
    metrics = SelfMetrics()
    forward = exporter(peer.url, metrics, max_elapsed_time="50ms")  # waits 10, 20, then 40 would pass 50 ms
    with pytest.raises(Refused, match="answered 503"):
        forward.consume(batch_of(two_services()))
    assert 2 <= len(peer.received) <= 3  # a slow machine may spend the 50 ms in two attempts
    assert counted(metrics, "otelcol_exporter_send_failed_spans_total") == 3


@pytest.mark.parametrize("peer", [[]], indirect=True)
def test_the_request_is_otlp_protobuf_with_one_resource_per_service(peer: Peer) -> None:
    forward = exporter(peer.url, SelfMetrics())
    specs = two_services()
    forward.consume(batch_of(specs))

    (_, content_type, body), *_ = peer.received
    assert content_type == "application/x-protobuf"
    request = ExportTraceServiceRequest.FromString(body)
    by_service = {
        rs.resource.attributes[0].value.string_value: [s.name for s in rs.scope_spans[0].spans]
        for rs in request.resource_spans
    }
    assert by_service == {"frontend": ["GET /dispatch"], "customer": ["SQL SELECT", "GET /customer"]}
    assert {s.span_id for rs in request.resource_spans for s in rs.scope_spans[0].spans} == {
        spec.span_id for spec in specs
    }
