"""Clients for tests: spans made by the OpenTelemetry SDK, raw OTLP requests, the query API."""

from __future__ import annotations

import grpc
import requests
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from backend.receivers.otlp.grpc_ingest import SERVICE

PROTOBUF = {"Content-Type": "application/x-protobuf"}


def sdk_spans(service: str, children: int = 2) -> list[ReadableSpan]:
    """One trace made by the SDK itself: a server root span and ``children`` child spans."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("tests.backend")
    with tracer.start_as_current_span("GET /dispatch", kind=SpanKind.SERVER):
        for i in range(children):
            with tracer.start_as_current_span(f"child {i}", attributes={"index": i}):
                pass
    provider.shutdown()
    return list(memory.get_finished_spans())


def trace_hex(spans: list[ReadableSpan]) -> str:
    return format(spans[0].context.trace_id, "032x")


def query_trace(base_url: str, trace_id: str) -> dict | None:
    """The trace as the Jaeger query API returns it, or None while it is not (yet) stored."""
    response = requests.get(f"{base_url}/api/traces/{trace_id}", timeout=5)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()["data"][0]


def span_count(base_url: str, trace_id: str) -> int:
    found = query_trace(base_url, trace_id)
    return len(found["spans"]) if found else 0


def post_otlp(url: str, body: bytes, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(url, data=body, headers=headers or PROTOBUF, timeout=10)


def grpc_export(target: str, body: bytes, timeout: float = 10) -> bytes:
    """Call TraceService/Export with raw bytes (so tests can send garbage); raises grpc.RpcError."""
    with grpc.insecure_channel(target) as channel:
        export = channel.unary_unary(f"/{SERVICE}/Export")
        return export(body, timeout=timeout)
