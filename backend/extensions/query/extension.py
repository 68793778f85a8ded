"""The ``jaeger_query`` extension: the Jaeger query API and UI over a named storage.

Two options serve a query API running in a process of its own (``backend.query_process``
writes them; a hand-written query role may too): ``metrics_history``, the options of the
spanmetrics processor that fills ``storage.metrics`` in the ingesting process, whose persisted
history this process then follows; and ``tail_sampling_metrics``, the ``/metrics`` URL of the
process whose tail_sampling counters ``/api/tail-sampling`` shows.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from backend.core.binding import ConfigError, bind
from backend.core.component import ExtensionFactory, Host, Settings
from backend.core.endpoints import parse_endpoint
from backend.core.http_server import HttpServerOptions
from backend.extensions.http_extension import HttpExtension
from backend.extensions.storage.extension import (
    PrometheusOptions,
    find_metrics_source,
    find_storage,
    find_storage_extension,
)
from backend.processors.spanmetrics.processor import FACTORY as SPANMETRICS
from backend.processors.spanmetrics.queries import MetricsReader
from backend.processors.tail_sampling.metrics import Collecting, Scraped
from backend.query import MAX_UPLOAD_BYTES
from backend.query.jaeger_ui import JaegerUi, UiAssetsError, load_jaeger_ui
from backend.query.mcp.options import AiOptions, McpOptions, check_mcp
from backend.storage.api import DependencyReader, SpanReader, Storage
from backend.storage.guarded import GuardedDependencyReader, GuardedReader

if TYPE_CHECKING:
    from backend.processors.spanmetrics.follower import HistoryFollower
    from backend.query.mcp.endpoint import McpEndpoint


@dataclass
class QueryStorage:
    traces: str = ""
    dependencies: str = ""  # defaults to the traces storage
    # a jaeger_storage metric backend (Prometheus), or the storage a spanmetrics processor keeps its metrics in;
    # empty: /api/metrics answers 501
    metrics: str = ""


@dataclass
class QueryHttp(HttpServerOptions):
    endpoint: str = "127.0.0.1:16686"
    threads: int = 8


@dataclass
class QueryUi:
    """Jaeger v2's ``jaeger_query.ui``: empty ``assets_path`` serves our own UI."""

    assets_path: str = ""  # a Jaeger UI build (the folder holding index.html and static/)
    config_file: str = ""  # Jaeger UI configuration, .json or .js (function UIConfig()), for assets_path


@dataclass
class QueryOptions:
    storage: QueryStorage = field(default_factory=QueryStorage)
    http: QueryHttp = field(default_factory=QueryHttp)
    ai: AiOptions = field(default_factory=AiOptions)
    # the largest trace file /api/transform and the upload page's critical path take (each is parsed whole in memory)
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    ui: QueryUi = field(default_factory=QueryUi)
    metrics_history: dict[str, Any] | None = None  # spanmetrics processor options (see the module docstring)
    tail_sampling_metrics: str = ""  # http://host:port/metrics of the ingesting process


def _options(raw: Any, where: str) -> QueryOptions:
    options = bind(QueryOptions, raw, where)
    if not options.storage.traces:
        raise ConfigError(f"{where}.storage.traces", "expected the name of a jaeger_storage backend")
    options.http.check(f"{where}.http")
    if options.http.threads < 1:
        raise ConfigError(f"{where}.http.threads", f"expected at least 1, got {options.http.threads}")
    if options.max_upload_bytes < 1:
        raise ConfigError(f"{where}.max_upload_bytes", f"expected at least 1, got {options.max_upload_bytes}")
    if options.ai.mcp is not None:
        check_mcp(options.ai.mcp, f"{where}.ai.mcp")
    if options.ui.config_file and not options.ui.assets_path:
        raise ConfigError(f"{where}.ui.config_file", "configures a Jaeger UI build: set ui.assets_path too")
    if options.ui.assets_path:
        _jaeger_ui(options, where)  # a missing build or a broken UI config stops start-up here
    if options.metrics_history is not None:
        if not options.storage.metrics:
            raise ConfigError(f"{where}.metrics_history", "follows spanmetrics: set storage.metrics too")
        SPANMETRICS.options(options.metrics_history, f"{where}.metrics_history")
    if options.tail_sampling_metrics and not options.tail_sampling_metrics.startswith(("http://", "https://")):
        raise ConfigError(f"{where}.tail_sampling_metrics", "expected an http:// URL of a /metrics endpoint")
    return options


def _jaeger_ui(options: QueryOptions, where: str) -> JaegerUi:
    try:
        version = importlib.metadata.version("hotrod-py")
    except importlib.metadata.PackageNotFoundError:
        version = ""
    ui = options.ui
    try:
        return load_jaeger_ui(ui.assets_path, ui.config_file, bool(options.storage.metrics), version)
    except UiAssetsError as exc:
        key = "config_file" if ui.config_file and "config file" in str(exc) else "assets_path"
        raise ConfigError(f"{where}.ui.{key}", str(exc)) from None


class QueryExtension(HttpExtension):
    start_order = 20

    def __init__(self, settings: Settings, options: QueryOptions):
        self._settings = settings
        self._options = options
        self._mcp: McpEndpoint | None = None
        self._follower: HistoryFollower | None = None

    def start(self, host: Host) -> None:
        # Imported at start: the query API pulls in Flask, which a collector-only config never needs.
        from backend.query.app import create_app
        from backend.query.params import QueryLimits

        where = self._settings.where
        storage = self._options.storage
        traces_at, dependencies_at = f"{where}.storage.traces", f"{where}.storage.dependencies"
        dependencies_name = storage.dependencies or storage.traces
        traces = find_storage(host, storage.traces, traces_at)
        dependencies = find_storage(host, dependencies_name, dependencies_at)
        # every read names the storage in its errors (503) and keeps the storage's health
        reader = GuardedReader(
            traces.reader(), storage.traces, find_storage_extension(host, storage.traces, traces_at).report
        )
        dependency_reader = GuardedDependencyReader(
            dependencies.dependency_reader(),
            dependencies_name,
            find_storage_extension(host, dependencies_name, dependencies_at).report,
        )
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
                if self._options.metrics_history is not None:
                    self._follow(source, self._options.metrics_history)
        # where tail_sampling processors count, for the Monitor page
        registry: Collecting = self._settings.metrics.registry
        if self._options.tail_sampling_metrics:
            registry = Scraped(self._options.tail_sampling_metrics)
        limits = QueryLimits(max_transform_bytes=self._options.max_upload_bytes)
        mcp_app = None
        if self._options.ai.mcp is not None:
            mcp_app = self._start_mcp(self._options.ai.mcp, reader, dependency_reader)
        jaeger_ui = _jaeger_ui(self._options, where) if self._options.ui.assets_path else None
        app = create_app(
            reader,
            dependency_reader,
            limits=limits,
            metrics=metrics,
            telemetry=registry,
            mcp=mcp_app,
            jaeger_ui=jaeger_ui,
        )
        self.serve(app, self._options.http, "query API and UI", "jaeger-query", self._options.http.threads)

    def _start_mcp(self, options: McpOptions, reader: SpanReader, dependencies: DependencyReader) -> Callable[..., Any]:
        # Imported only when configured: the MCP SDK brings pydantic, starlette and an event loop.
        from backend.query.mcp.endpoint import McpEndpoint
        from backend.query.mcp.server import build_server

        host, _ = parse_endpoint(self._options.http.endpoint, f"{self._settings.where}.http.endpoint")
        endpoint = McpEndpoint(build_server(reader, dependencies, options), host)
        self._mcp = endpoint
        return endpoint.start()

    def _follow(self, storage: Storage, raw: dict[str, Any]) -> None:
        from backend.processors.spanmetrics.follower import HistoryFollower

        where = f"{self._settings.where}.metrics_history"
        self._follower = HistoryFollower(storage, SPANMETRICS.options(raw, where), self._settings.logger)
        self._follower.start()

    def shutdown(self) -> None:
        self.stop_serving()
        if self._follower is not None:
            self._follower.stop()
            self._follower = None
        if self._mcp is not None:
            self._mcp.stop()
            self._mcp = None


FACTORY = ExtensionFactory("jaeger_query", _options, QueryExtension)
