"""Four services in one process, yet every span reports under the service that did the work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from hotrod.knobs import Knobs
from hotrod.settings import SERVICES, Settings
from hotrod.stack import Stack, start
from hotrod.telemetry import Telemetry
from tests.support import wait_for

# (instrumentation scope, span name or None for any) → the service that must own the span
OWNERS = {
    ("opentelemetry.instrumentation.sqlalchemy", None): "customer",
    ("opentelemetry.instrumentation.redis", None): "driver",
    ("opentelemetry.instrumentation.requests", None): "frontend",
    ("hotrod.customer", None): "customer",
    ("hotrod.driver", None): "driver",
    ("opentelemetry.instrumentation.flask", "GET /dispatch"): "frontend",
    ("opentelemetry.instrumentation.flask", "GET /customer"): "customer",
    ("opentelemetry.instrumentation.flask", "GET /drivers"): "driver",
    ("opentelemetry.instrumentation.flask", "GET /route"): "route",
}


def owner(span: ReadableSpan) -> str:
    scope = span.instrumentation_scope.name
    return OWNERS.get((scope, span.name)) or OWNERS[(scope, None)]


@pytest.fixture
def in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Stack, InMemorySpanExporter]]:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    telemetry = Telemetry(SERVICES)
    exporter = InMemorySpanExporter()
    for provider in telemetry.providers.values():
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings = Settings(ports=dict.fromkeys(SERVICES, 0), data_dir=tmp_path, delay_scale=0.05)
    stack = start(SERVICES, settings, Knobs.from_settings(settings), telemetry)
    yield stack, exporter
    stack.close()
    telemetry.shutdown()


def test_every_span_carries_the_service_that_made_it(in_process: tuple[Stack, InMemorySpanExporter]) -> None:
    stack, exporter = in_process
    reply = requests.get(f"{stack.url('frontend')}/dispatch", params={"customer": 731}, timeout=30)
    assert reply.status_code == 200
    trace_id = int(reply.headers["traceresponse"].split("-")[1], 16)
    spans = wait_for(
        lambda: (
            [s for s in exporter.get_finished_spans() if s.name == "GET /dispatch"] and exporter.get_finished_spans()
        ),
        what="the dispatch's spans",
    )
    assert {s.context.trace_id for s in spans} == {trace_id}
    services = {s.resource.attributes["service.name"] for s in spans}
    assert services == set(SERVICES)
    wrong = [(s.name, s.instrumentation_scope.name, s.resource.attributes["service.name"]) for s in spans
             if s.resource.attributes["service.name"] != owner(s)]  # fmt: skip
    assert not wrong


def test_work_outside_any_request_is_not_traced(in_process: tuple[Stack, InMemorySpanExporter]) -> None:
    _, exporter = in_process
    assert exporter.get_finished_spans() == ()  # start-up (schema, seeding) left no spans behind
