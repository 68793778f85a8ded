"""The one OpenTelemetry setup every HotROD service uses.

Per service: a ``TracerProvider`` whose resource names the service, the sampler ``OTEL_TRACES_SAMPLER``
names (the SDK's own, or our Jaeger remote one for this service), a batch processor and an OTLP exporter
(HTTP by default, gRPC when ``OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL=grpc``) that reads the standard
``OTEL_EXPORTER_OTLP_*`` variables and otherwise sends to the bundled backend on 127.0.0.1.
Process-wide: W3C trace context + baggage (the SDK's default ``OTEL_PROPAGATORS``), the
``traceresponse`` header, and the requests/redis/SQLAlchemy instrumentations, which patch the
process once and therefore go through ``RoutingTracerProvider`` (see ``hotrod.tracerouting``).
``OTEL_SDK_DISABLED=true`` turns tracing off entirely (the overhead benchmark's baseline).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from opentelemetry import baggage, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.propagators import TraceResponsePropagator, set_global_response_propagator
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider, sampling
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from hotrod.sampling.entry_point import remote_sampler
from hotrod.tracerouting import RoutingTracerProvider, service_scope

log = logging.getLogger(__name__)

DEFAULT_OTLP_HTTP = "http://127.0.0.1:4318"
DEFAULT_OTLP_GRPC = "http://127.0.0.1:4317"
DEFAULT_POLLING_MS = 5000  # how soon a service follows new adaptive probabilities (the spec's default: 60 s)
BAGGAGE_KEYS = ("session", "request", "customer")

ROUTING = RoutingTracerProvider()
_instrumented = False


def tracing_enabled() -> bool:
    return os.environ.get("OTEL_SDK_DISABLED", "false").strip().lower() != "true"


class BaggageSpanProcessor(SpanProcessor):
    """Copies HotROD's baggage (session, request, customer) onto every span, so traces are searchable by them."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for key in BAGGAGE_KEYS:
            value = baggage.get_baggage(key, parent_context)
            if value is not None:
                span.set_attribute(key, str(value))

    def on_end(self, span: ReadableSpan) -> None:
        pass


def _protocol() -> str:
    value = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    return (value or "http/protobuf").strip().lower()


def _env_endpoint_set() -> bool:
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def make_exporters(endpoint: str | None) -> list[SpanExporter]:
    """Exporters named by ``OTEL_TRACES_EXPORTER`` (otlp, console, none); ``endpoint`` beats the env."""
    names = [n.strip().lower() for n in os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",") if n.strip()]
    exporters: list[SpanExporter] = []
    for name in names:
        if name == "console":
            exporters.append(ConsoleSpanExporter())
        elif name == "otlp":
            exporters.append(_otlp_exporter(endpoint))
        elif name != "none":
            log.warning("unknown OTEL_TRACES_EXPORTER %r ignored (use otlp, console or none)", name)
    return exporters


def _otlp_exporter(endpoint: str | None) -> SpanExporter:
    if _protocol() == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        if endpoint is None and _env_endpoint_set():
            return GrpcExporter()
        target = endpoint or DEFAULT_OTLP_GRPC
        return GrpcExporter(endpoint=target, insecure=target.startswith("http://"))
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

    if endpoint is None and _env_endpoint_set():
        return HttpExporter()
    return HttpExporter(endpoint=(endpoint or DEFAULT_OTLP_HTTP).rstrip("/") + "/v1/traces")


def remote_sampling_arg(sampling_endpoint: str) -> str:
    """``OTEL_TRACES_SAMPLER_ARG`` for a bundled backend: every trace until the first strategy arrives.

    The user's own ``OTEL_TRACES_SAMPLER_ARG`` comes last, so each key it names wins.
    """
    endpoint = sampling_endpoint.rstrip("/") + "/sampling"
    ours = f"endpoint={endpoint},pollingIntervalMs={DEFAULT_POLLING_MS},initialSamplingRate=1.0"
    theirs = os.environ.get("OTEL_TRACES_SAMPLER_ARG", "").strip()
    return f"{ours},{theirs}" if theirs else ours


def make_sampler(service: str, closables: list[Any], sampling_endpoint: str | None = None) -> sampling.Sampler | None:
    """Jaeger remote for this service when ``OTEL_TRACES_SAMPLER`` names it; None lets the SDK choose from the env.

    Jaeger remote is built here rather than through its entry point because it needs this service's name
    (four services share one process in ``hotrod all``). Unset, it is Jaeger remote against
    ``sampling_endpoint`` when given, otherwise the SDK's default (``parentbased_always_on``).
    """
    name = os.environ.get("OTEL_TRACES_SAMPLER", "").strip().lower()
    if not name and sampling_endpoint:
        name = "jaeger_remote"
    if name not in ("jaeger_remote", "parentbased_jaeger_remote"):
        return None
    arg = remote_sampling_arg(sampling_endpoint) if sampling_endpoint else os.environ.get("OTEL_TRACES_SAMPLER_ARG")
    remote = remote_sampler(service, arg)
    closables.append(remote)
    return sampling.ParentBased(remote) if name == "parentbased_jaeger_remote" else remote


def _instrument_process() -> None:
    """Patch requests, redis and SQLAlchemy once per process, through the routing provider."""
    global _instrumented
    if _instrumented:
        return
    _instrumented = True
    set_global_response_propagator(TraceResponsePropagator())
    RequestsInstrumentor().instrument(tracer_provider=ROUTING)
    RedisInstrumentor().instrument(tracer_provider=ROUTING)
    # the instrumentation declares sqlalchemy < 2.1 but works with 2.1 (tests cover the SQL spans)
    SQLAlchemyInstrumentor().instrument(tracer_provider=ROUTING, enable_commenter=False, skip_dep_check=True)


class Telemetry:
    """Tracing for the services of one process; ``shutdown`` flushes every span still queued."""

    def __init__(
        self, services: Iterable[str], endpoint: str | None = None, sampling_endpoint: str | None = None
    ) -> None:
        self.enabled = tracing_enabled()
        self.providers: dict[str, TracerProvider] = {}
        self._closables: list[Any] = []
        if not self.enabled:
            return
        _instrument_process()
        for service in services:
            provider = TracerProvider(
                resource=Resource.create({"service.name": service}),
                sampler=make_sampler(service, self._closables, sampling_endpoint),
            )
            provider.add_span_processor(BaggageSpanProcessor())
            for exporter in make_exporters(endpoint):
                provider.add_span_processor(BatchSpanProcessor(exporter))
            self.providers[service] = provider
            ROUTING.register(service, provider)

    def tracer(self, service: str, name: str) -> trace.Tracer:
        provider = self.providers.get(service)
        return (provider or trace.NoOpTracerProvider()).get_tracer(name)

    def instrument_app(self, app: Flask, service: str) -> None:
        """Trace the app's requests under ``service`` and route its outgoing client spans to it too."""
        provider = self.providers.get(service)
        if provider is not None:
            FlaskInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="health,metrics")
        inner = app.wsgi_app

        def in_service_scope(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            with service_scope(service):
                return inner(environ, start_response)

        app.wsgi_app = in_service_scope  # type: ignore[method-assign]

    def force_flush(self, timeout_millis: int = 10_000) -> None:
        for provider in self.providers.values():
            provider.force_flush(timeout_millis)

    def shutdown(self) -> None:
        for service, provider in self.providers.items():
            ROUTING.unregister(service, provider)
            provider.shutdown()
        for closable in self._closables:
            closable.close()
        self.providers = {}
        self._closables = []
