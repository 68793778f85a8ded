"""When the pipeline behind a receiver fails or is full, senders are told to retry.

The receivers run in-process here, in front of consumers that fail the way a
pipeline fails when its storage is down (HTTP 503, gRPC UNAVAILABLE) or that
refuse the way a full queue does (HTTP 429, gRPC RESOURCE_EXHAUSTED), either
when the spans are handed over or already when asked before decoding.
"""

from __future__ import annotations

import logging

import grpc
import pytest
from google.rpc.error_details_pb2 import RetryInfo
from google.rpc.status_pb2 import Status

from backend.core.component import Refused
from backend.core.selfmetrics import SelfMetrics
from backend.receivers.otlp.grpc_ingest import OtlpGrpcServer
from backend.receivers.otlp.http_ingest import OtlpHttpApp
from backend.receivers.shared.ingest import Ingest
from backend.spans.model import SpanBatch
from httpd.wsgi_server import WsgiServer
from tests.backend.clients import grpc_export, post_otlp
from tests.builders import SpanSpec, export_request


class BrokenStorage:
    def consume(self, batch: SpanBatch) -> None:
        raise OSError("database is down")

    def refusal(self) -> Refused | None:
        return None


class Overloaded:
    def consume(self, batch: SpanBatch) -> None:
        raise Refused("queue full", retry_after=3.0)

    def refusal(self) -> Refused | None:
        return None  # found out only when the spans are handed over


class KnownFull:
    """A pipeline that already says it is full when asked, before anything is decoded."""

    def __init__(self) -> None:
        self.consumed = 0

    def consume(self, batch: SpanBatch) -> None:
        self.consumed += 1

    def refusal(self) -> Refused | None:
        return Refused("queue full", retry_after=2.0)


def ingest(consumer) -> Ingest:
    return Ingest("otlp", "test", consumer, SelfMetrics(), logging.getLogger("test"))


@pytest.fixture
def http_server():
    servers = []

    def start(consumer) -> str:
        server = WsgiServer(OtlpHttpApp(ingest(consumer), 1 << 20), "127.0.0.1", 0, name="test")
        server.start()
        servers.append(server)
        return f"http://{server.address}/v1/traces"

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def grpc_server():
    servers = []

    def start(consumer) -> str:
        server = OtlpGrpcServer(ingest(consumer), "127.0.0.1", 0, 1 << 20, 2)
        server.start()
        servers.append(server)
        return server.address

    yield start
    for server in servers:
        server.stop(grace=0)


BODY = export_request([SpanSpec("frontend", "GET /")]).SerializeToString()


def test_a_failing_pipeline_is_http_503_with_retry_after(http_server):
    response = post_otlp(http_server(BrokenStorage()), BODY)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "database is down" in Status.FromString(response.content).message


def test_a_full_pipeline_is_http_429_with_its_retry_after(http_server):
    response = post_otlp(http_server(Overloaded()), BODY)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"


@pytest.mark.parametrize(
    ("consumer", "code"),
    [(BrokenStorage(), grpc.StatusCode.UNAVAILABLE), (Overloaded(), grpc.StatusCode.RESOURCE_EXHAUSTED)],
)
def test_grpc_refusals_carry_the_code_and_a_retry_delay(grpc_server, consumer, code):
    with pytest.raises(grpc.RpcError) as caught:
        grpc_export(grpc_server(consumer), BODY)
    assert caught.value.code() is code
    details = dict(caught.value.trailing_metadata())["grpc-status-details-bin"]
    retry = RetryInfo()
    assert Status.FromString(details).details[0].Unpack(retry)
    assert retry.retry_delay.ToNanoseconds() == (
        3_000_000_000 if code is grpc.StatusCode.RESOURCE_EXHAUSTED else 1_000_000_000
    )


def test_a_pipeline_known_to_be_full_is_http_429_before_the_body_is_decoded(http_server):
    full = KnownFull()

    response = post_otlp(http_server(full), b"not protobuf at all")

    assert response.status_code == 429  # not 400: the body was never parsed
    assert response.headers["Retry-After"] == "2"
    assert full.consumed == 0


def test_a_pipeline_known_to_be_full_is_grpc_resource_exhausted_before_decoding(grpc_server):
    full = KnownFull()

    with pytest.raises(grpc.RpcError) as caught:
        grpc_export(grpc_server(full), b"not protobuf at all")

    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert full.consumed == 0
