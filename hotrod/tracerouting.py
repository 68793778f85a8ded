"""One process, several services: route each span to the tracer provider of the service at work.

``hotrod all`` runs frontend, customer, driver and route in one process, yet each must report
under its own ``service.name``. Flask apps are instrumented one by one, so each gets its own
provider; but the requests, redis and SQLAlchemy instrumentations patch the process once and
keep one tracer. They get a ``RoutingTracerProvider`` whose tracers pick, at every span start,
the provider of the service named by a context variable. A service sets that variable while it
handles a request (``service_scope``); work handed to threads must run in a copied context
(``contextvars.copy_context().run``), which the OpenTelemetry context needs anyway.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace

_NOOP = trace.NoOpTracerProvider()
current_service: ContextVar[str | None] = ContextVar("hotrod_current_service", default=None)


@contextlib.contextmanager
def service_scope(service: str) -> Iterator[None]:
    token = current_service.set(service)
    try:
        yield
    finally:
        current_service.reset(token)


class RoutingTracerProvider(trace.TracerProvider):
    """Hands out tracers that delegate to the current service's provider, per span."""

    def __init__(self) -> None:
        self._providers: dict[str, trace.TracerProvider] = {}
        self._lock = threading.Lock()

    def register(self, service: str, provider: trace.TracerProvider) -> None:
        with self._lock:
            self._providers = {**self._providers, service: provider}

    def unregister(self, service: str, provider: trace.TracerProvider) -> None:
        with self._lock:
            if self._providers.get(service) is provider:
                self._providers = {k: v for k, v in self._providers.items() if k != service}

    def provider_for(self, service: str | None) -> trace.TracerProvider:
        """The provider of ``service``; outside any service's work (start-up, pollers) spans are not recorded."""
        provider = self._providers.get(service) if service else None
        return provider if provider is not None else _NOOP

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Any = None,
    ) -> trace.Tracer:
        return _RoutingTracer(self, (instrumenting_module_name, instrumenting_library_version, schema_url, attributes))


class _RoutingTracer(trace.Tracer):
    def __init__(self, routing: RoutingTracerProvider, scope: tuple[Any, ...]) -> None:
        self._routing = routing
        self._scope = scope
        self._cache: dict[trace.TracerProvider, trace.Tracer] = {}

    def _delegate(self) -> trace.Tracer:
        provider = self._routing.provider_for(current_service.get())
        tracer = self._cache.get(provider)
        if tracer is None:
            tracer = self._cache[provider] = provider.get_tracer(*self._scope)
        return tracer

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        return self._delegate().start_span(*args, **kwargs)

    @contextlib.contextmanager
    def start_as_current_span(  # type: ignore[override]  # forwards every parameter the API names, unchanged
        self, *args: Any, **kwargs: Any
    ) -> Iterator[trace.Span]:
        with self._delegate().start_as_current_span(*args, **kwargs) as span:
            yield span
