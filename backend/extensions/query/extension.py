"""The ``jaeger_query`` extension: the Jaeger query API and UI over a named storage, on waitress."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.core.binding import ConfigError, bind
from backend.core.component import ExtensionFactory, Host, Settings
from backend.core.endpoints import parse_endpoint
from backend.extensions.http_extension import HttpExtension
from backend.extensions.storage.extension import PrometheusOptions, find_metrics_source, find_storage
from backend.processors.spanmetrics.queries import MetricsReader


@dataclass
class QueryStorage:
    traces: str = ""
    dependencies: str = ""  # defaults to the traces storage
    # a jaeger_storage metric backend (Prometheus), or the storage a spanmetrics processor keeps its metrics in;
    # empty: /api/metrics answers 501
    metrics: str = ""


@dataclass
class QueryHttp:
    endpoint: str = "127.0.0.1:16686"
    threads: int = 8


@dataclass
class QueryOptions:
    storage: QueryStorage = field(default_factory=QueryStorage)
    http: QueryHttp = field(default_factory=QueryHttp)


def _options(raw: Any, where: str) -> QueryOptions:
    options = bind(QueryOptions, raw, where)
    if not options.storage.traces:
        raise ConfigError(f"{where}.storage.traces", "expected the name of a jaeger_storage backend")
    parse_endpoint(options.http.endpoint, f"{where}.http.endpoint")
    if options.http.threads < 1:
        raise ConfigError(f"{where}.http.threads", f"expected at least 1, got {options.http.threads}")
    return options


class QueryExtension(HttpExtension):
    start_order = 20

    def __init__(self, settings: Settings, options: QueryOptions):
        self._settings = settings
        self._options = options

    def start(self, host: Host) -> None:
        # Imported at start: the query API pulls in Flask, which a collector-only config never needs.
        from backend.query.app import create_app

        where = self._settings.where
        storage = self._options.storage
        traces = find_storage(host, storage.traces, f"{where}.storage.traces")
        dependencies = find_storage(host, storage.dependencies or storage.traces, f"{where}.storage.dependencies")
        metrics: MetricsReader | None = None
        if storage.metrics:
            source = find_metrics_source(host, storage.metrics, f"{where}.storage.metrics")
            if isinstance(source, PrometheusOptions):
                from backend.processors.spanmetrics.prometheus_reader import PrometheusMetricsReader

                metrics = PrometheusMetricsReader(source.endpoint, source.timeout / 1e9)
            else:
                from backend.processors.spanmetrics.hub import hub_for
                from backend.processors.spanmetrics.queries import StoreMetricsReader

                metrics = StoreMetricsReader(hub_for(source))
        registry = self._settings.metrics.registry  # where tail_sampling processors count, for the Monitor page
        app = create_app(traces.reader(), dependencies.dependency_reader(), metrics=metrics, telemetry=registry)
        self.serve(app, self._options.http.endpoint, "jaeger-query", self._options.http.threads)

    def shutdown(self) -> None:
        self.stop_serving()


FACTORY = ExtensionFactory("jaeger_query", _options, QueryExtension)
