"""Spans from jaeger-client (Jaeger's own Python client), on the wire it writes: none of the backend's IDL is used.

Compact UDP comes from the client's tracer and reporter as an application
would run them.  Binary UDP and HTTP carry the same client's spans, turned
into its own Apache-Thrift-generated ``Batch`` and written by Apache Thrift's
binary protocol, the encoding the Jaeger agent and collector take.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from jaeger_client import Config, Tracer
from jaeger_client.reporter import InMemoryReporter
from jaeger_client.sampler import ConstSampler
from jaeger_client.thrift import make_jaeger_batch, make_process
from jaeger_client.thrift_gen.agent import Agent
from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.Thrift import TMessageType
from thrift.transport.TTransport import TMemoryBuffer

from tests.receivers.conftest import Backend
from tests.receivers.test_jaeger_thrift import tags_of
from tests.support import wait_for


def record(tracer: Tracer) -> str:
    """A server span with a failed client child that logs a retry; the trace id as 32 hex digits."""
    with tracer.start_active_span("GET /dispatch", tags={"span.kind": "server", "http.status_code": 200}) as scope:
        with tracer.start_active_span("SQL SELECT", tags={"span.kind": "client", "error": True, "db.rows": 3}) as child:
            child.span.log_kv({"event": "retry", "attempt": 2})
        return f"{scope.span.trace_id:032x}"


def stored(backend: Backend, trace_hex: str) -> dict:
    return wait_for(lambda: backend.trace(trace_hex), timeout=10, what=f"trace {trace_hex}")


def check(trace: dict, service: str) -> None:
    spans = {span["operationName"]: span for span in trace["spans"]}
    root, child = spans["GET /dispatch"], spans["SQL SELECT"]
    assert trace["processes"][root["processID"]]["serviceName"] == service
    assert (tags_of(root)["span.kind"], tags_of(root)["http.status_code"]) == ("server", 200)
    assert (tags_of(child)["error"], tags_of(child)["db.rows"]) == (True, 3)
    assert child["references"][0]["spanID"] == root["spanID"]
    assert {f["key"]: f["value"] for f in child["logs"][0]["fields"]} == {"event": "retry", "attempt": 2}


@pytest.fixture
def recorded() -> Iterator[tuple[str, list]]:
    """Spans recorded by a jaeger-client tracer that keeps them in memory."""
    reporter = InMemoryReporter()
    tracer = Tracer("jc-memory", reporter=reporter, sampler=ConstSampler(True))
    trace_hex = record(tracer)
    yield trace_hex, reporter.get_spans()
    tracer.close()


def binary_batch(spans: list, service: str) -> Any:
    return make_jaeger_batch(spans, make_process(service, {"hostname": "box-1"}, max_length=256))


def test_the_clients_own_reporter_sends_compact_udp(backend: Backend):
    host, port = backend.address("jaeger/thrift_compact")
    config = {"sampler": {"type": "const", "param": 1}, "local_agent": {"reporting_host": host, "reporting_port": port}}
    tracer = Config(config={**config, "logging": False}, service_name="jc-compact", validate=True).new_tracer()
    trace_hex = record(tracer)
    tracer.close()  # flushes the reporter's queue onto the socket (on the client's own IOLoop thread)

    check(stored(backend, trace_hex), "jc-compact")


def test_binary_udp_emit_batch_written_by_apache_thrift(backend: Backend, recorded):
    trace_hex, spans = recorded
    buffer = TMemoryBuffer()
    protocol = TBinaryProtocol(buffer)
    protocol.writeMessageBegin("emitBatch", TMessageType.ONEWAY, 1)  # what the agent's Thrift client writes
    Agent.emitBatch_args(batch=binary_batch(spans, "jc-binary")).write(protocol)
    protocol.writeMessageEnd()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(buffer.getvalue(), backend.address("jaeger/thrift_binary"))

    check(stored(backend, trace_hex), "jc-binary")


def test_http_batch_written_by_apache_thrift(backend: Backend, recorded):
    trace_hex, spans = recorded
    buffer = TMemoryBuffer()
    binary_batch(spans, "jc-http").write(TBinaryProtocol(buffer))

    response = requests.post(
        backend.url("jaeger/thrift_http", "/api/traces"),
        data=buffer.getvalue(),
        headers={"Content-Type": "application/x-thrift"},
        timeout=5,
    )

    assert response.status_code == 202, response.text
    check(stored(backend, trace_hex), "jc-http")
