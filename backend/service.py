"""``BackendService``: one running backend (extensions, pipelines, self-metrics) built from a ``Config``.

No global state: every instance has its own components, metrics registry and
servers, so several can run in one process (``hotrod all``, tests).

Start: self-metrics server, extensions (by ``start_order``: health, storage,
then the rest), pipelines (exporters → processors → receivers), then each
extension's ``ready``.  Shutdown is
the reverse and drains: receivers stop taking data, queues are delivered,
exporters stop, then extensions (storage closes last among its users).
"""

from __future__ import annotations

import logging
import threading

from backend.config import Config
from backend.core.component import Extension, ExtensionFactory, StartError, Status
from backend.core.endpoints import parse_endpoint
from backend.core.http_server import bind_failure
from backend.core.selfmetrics import SelfMetrics
from backend.pipeline import Pipelines, settings_for
from httpd.limits import Limits

log = logging.getLogger("backend.service")


class BackendService:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.metrics = SelfMetrics()
        self._status = Status.STARTING
        self._lock = threading.Lock()
        # Its own lock: a component's thread may report while shutdown holds _lock and waits for that thread.
        self._problems_lock = threading.Lock()
        self._problems: dict[str, str] = {}
        self._extensions: dict[str, Extension] = {}
        for eid in config.service_extensions:
            component = config.extensions[eid]
            settings = settings_for("extension", component, self.metrics)
            factory = component.factory
            assert isinstance(factory, ExtensionFactory)  # config.py files each id under its kind
            self._extensions[eid] = factory.create(settings, component.options)
        self._pipelines = Pipelines(config, self.metrics)
        self._started_extensions: list[Extension] = []
        self._metrics_address = ""

    def add_extension(self, component_id: str, extension: Extension) -> None:
        """Run ``extension`` as ``component_id`` too, though the config does not list it (before ``start``).

        How ``hotrod backend`` puts ``QueryProcess`` where ``jaeger_query`` was (``backend.query_process``).
        """
        if component_id in self._extensions:
            raise ValueError(f"extension {component_id!r} is configured already")
        self._extensions[component_id] = extension

    # Host

    @property
    def status(self) -> Status:
        return self._status

    def extension(self, component_id: str) -> Extension:
        try:
            return self._extensions[component_id]
        except KeyError:
            raise KeyError(f"no extension {component_id!r} in service.extensions") from None

    def extensions(self) -> dict[str, Extension]:
        return dict(self._extensions)

    def report(self, component: str, problem: str | None) -> None:
        with self._problems_lock:
            if problem is None:
                self._problems.pop(component, None)
            else:
                self._problems[component] = problem

    def problems(self) -> dict[str, str]:
        with self._problems_lock:
            return dict(self._problems)

    # Lifecycle

    def start(self) -> None:
        """Start everything; returns once every server listens.  On failure, stops what started and raises."""
        try:
            metrics = self.config.telemetry.metrics
            if metrics.level != "none":
                where = f"{self.config.source}: service.telemetry.metrics.address"
                host, port = parse_endpoint(metrics.address, where)
                try:
                    self._metrics_address = self.metrics.serve(host, port, Limits())
                except OSError as exc:
                    raise StartError(where, bind_failure("self-metrics (/metrics)", host, port, exc)) from exc
            for extension in sorted(self._extensions.values(), key=lambda e: e.start_order):
                self._started_extensions.append(extension)  # a half-started one must be shut down too
                extension.start(self)
            self._pipelines.start(self)
            for extension in self._started_extensions:
                extension.ready()
        except BaseException:
            self.shutdown()
            raise
        self._status = Status.READY
        log.info("backend ready: %s", ", ".join(f"{name} {address}" for name, address in self.endpoints.items()))

    def shutdown(self) -> None:
        """Stop taking data, deliver everything accepted, close storage, stop servers.  Safe to call twice."""
        with self._lock:
            if self._status is Status.STOPPED:
                return
            self._status = Status.STOPPING
            self._pipelines.shutdown(log)
            for extension in reversed(self._started_extensions):
                try:
                    extension.shutdown()
                except Exception:
                    log.exception("shutting down extension %s failed", type(extension).__name__)
            self._started_extensions.clear()
            self.metrics.stop()
            self._metrics_address = ""
            self._status = Status.STOPPED

    @property
    def endpoints(self) -> dict[str, str]:
        """Actual ``host:port`` of every server, e.g. ``{"otlp/http": "127.0.0.1:4318", "metrics": ...}``."""
        found = self._pipelines.endpoints()
        for extension in self._started_extensions:
            found.update(extension.endpoints())
        if self._metrics_address:
            found["metrics"] = self._metrics_address
        return found
