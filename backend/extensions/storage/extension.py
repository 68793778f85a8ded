"""The ``jaeger_storage`` extension: named storage backends that exporters and the query API share.

As in Jaeger v2, storages are configured once, by name, and components refer
to them by that name (``trace_storage: main``).  The extension also runs
retention: ``purge_expired`` every ``purge_interval`` (0: not in this process, as in
a query process, whose ingesting process purges).

``metric_backends`` are, as in Jaeger v2, where the query API may read
/api/metrics from instead: a Prometheus that scrapes the spanmetrics names
(``{name: {prometheus: {endpoint: http://host:9090}}}``).  Without one, the
query API reads the metrics a spanmetrics processor keeps beside a trace storage.

The extension also keeps each storage's health as its users find it: the
storage exporter and the query API ``report`` every failure and the first
success after one; ``unavailable()`` is what the health endpoint shows and
``jaeger_storage_up`` exports.  ``watch`` hears each change (a storage found
failing, or working again): how a query process tells the backend that runs it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backend.core.binding import ConfigError, Duration, bind
from backend.core.component import Extension, ExtensionFactory, Host, Settings
from backend.core.periodic import Periodic
from backend.storage.api import Storage
from backend.storage.factory import bind_options, create_storage, known_kinds


@dataclass
class StorageExtensionOptions:
    backends: dict[str, Any]
    metric_backends: dict[str, Any] = field(default_factory=dict)
    purge_interval: Duration = Duration(60_000_000_000)


@dataclass
class PrometheusOptions:
    """A Prometheus that scrapes the spanmetrics names (``/metrics`` on the telemetry port)."""

    endpoint: str = ""  # http://host:9090
    timeout: Duration = Duration(10_000_000_000)


@dataclass(frozen=True)
class _Options:
    general: StorageExtensionOptions
    backends: dict[str, _Backend]
    metric_backends: dict[str, PrometheusOptions]


@dataclass(frozen=True)
class _Backend:
    kind: str
    raw: Any
    where: str


def _options(raw: Any, where: str) -> _Options:
    options = bind(StorageExtensionOptions, raw, where)
    if options.purge_interval < 0:
        raise ConfigError(f"{where}.purge_interval", "expected a duration such as 1m, or 0 for no purging here")
    backends = {}
    for name, spec in options.backends.items():
        at = f"{where}.backends.{name}"
        if not isinstance(spec, dict) or len(spec) != 1:
            raise ConfigError(at, f"expected exactly one storage kind ({', '.join(known_kinds())}) with its options")
        ((kind, kind_options),) = spec.items()
        bind_options(kind, kind_options, f"{at}.{kind}")
        backends[name] = _Backend(kind, kind_options, f"{at}.{kind}")
    return _Options(options, backends, _metric_backends(options.metric_backends, set(backends), where))


def _metric_backends(raw: dict[str, Any], storage_names: set[str], where: str) -> dict[str, PrometheusOptions]:
    found = {}
    for name, spec in raw.items():
        at = f"{where}.metric_backends.{name}"
        if name in storage_names:
            raise ConfigError(at, f"{name!r} already names one of the backends; a name must say which it is")
        if not isinstance(spec, dict) or list(spec) != ["prometheus"]:
            raise ConfigError(at, "expected prometheus: {endpoint: http://host:9090}, the one kind of metric backend")
        options = bind(PrometheusOptions, spec["prometheus"], f"{at}.prometheus")
        if not options.endpoint.startswith(("http://", "https://")):
            raise ConfigError(f"{at}.prometheus.endpoint", "expected an http:// or https:// URL")
        found[name] = options
    return found


class StorageExtension(Extension):
    start_order = 0

    def __init__(self, settings: Settings, options: _Options):
        self._settings = settings
        self._options = options.general
        self._backends = options.backends
        self._metric_backends = options.metric_backends
        self._storages: dict[str, Storage] = {}
        interval_s = options.general.purge_interval / 1e9
        self._purges = Periodic(f"{settings.id}-purge", interval_s, self._purge, settings.logger)
        self._down: dict[str, tuple[str, float]] = {}  # storage name -> (last error, since when, unix s)
        self._up = settings.metrics.storage_up
        self._watchers: list[Callable[[str, Exception | None], None]] = []

    def start(self, host: Host) -> None:
        for name, backend in self._backends.items():
            self._storages[name] = create_storage(backend.kind, backend.raw, backend.where)
            self._settings.logger.info("storage %r: %s", name, backend.kind)
            self._up.labels(name).set(1)
        if self._options.purge_interval:
            self._purges.start()

    def storage(self, name: str) -> Storage | None:
        return self._storages.get(name)

    def names(self) -> list[str]:
        return list(self._backends)

    def report(self, name: str, error: Exception | None) -> None:
        """A user of storage ``name`` found it working (``error`` None) or failing."""
        if error is None:
            if self._down.pop(name, None) is not None:
                self._settings.logger.info("storage %r is available again", name)
                self._up.labels(name).set(1)
                self._tell(name, None)
            return
        since = self._down[name][1] if name in self._down else time.time()
        if name not in self._down:
            self._settings.logger.error("storage %r is unavailable: %s", name, error)
            self._tell(name, error)
        self._down[name] = (f"{type(error).__name__}: {error}", since)
        self._up.labels(name).set(0)

    def watch(self, callback: Callable[[str, Exception | None], None]) -> None:
        """Call ``callback(name, error)`` when a storage is found failing, and ``(name, None)`` when it works again."""
        self._watchers.append(callback)

    def _tell(self, name: str, error: Exception | None) -> None:
        for callback in self._watchers:
            try:
                callback(name, error)
            except Exception:
                self._settings.logger.exception("a watcher of storage %r failed", name)

    def unavailable(self) -> dict[str, tuple[str, float]]:
        """Storages whose last use failed: name -> (error, unix time it started failing)."""
        return dict(self._down)

    def metric_backend(self, name: str) -> PrometheusOptions | None:
        return self._metric_backends.get(name)

    def _purge(self) -> None:
        for name, storage in self._storages.items():
            try:
                removed = storage.purge_expired(time.time_ns())
            except Exception:
                self._settings.logger.exception("retention purge of storage %r failed", name)
                continue
            if removed:
                self._settings.metrics.purged.labels(name).inc(removed)
                self._settings.logger.info("retention removed %d span(s) from storage %r", removed, name)

    def shutdown(self) -> None:
        self._purges.stop()
        for name, storage in self._storages.items():
            try:
                storage.close()
            except Exception:
                self._settings.logger.exception("closing storage %r failed", name)
        self._storages.clear()


def find_storage(host: Host, name: str, where: str) -> Storage:
    """The storage called ``name`` in any started ``jaeger_storage`` extension; ``where`` locates the reference."""
    storage = find_storage_extension(host, name, where).storage(name)
    assert storage is not None
    return storage


def find_storage_extension(host: Host, name: str, where: str) -> StorageExtension:
    """The started ``jaeger_storage`` extension that defines storage ``name``."""
    defined = []
    for extension in host.extensions().values():
        if isinstance(extension, StorageExtension):
            if extension.storage(name) is not None:
                return extension
            defined.extend(extension.names())
    if not defined:
        raise ConfigError(where, f"storage {name!r} needs a jaeger_storage extension listed in service.extensions")
    raise ConfigError(where, f"storage {name!r} is not one of the jaeger_storage backends: {', '.join(defined)}")


FACTORY = ExtensionFactory("jaeger_storage", _options, StorageExtension)


def find_metrics_source(host: Host, name: str, where: str) -> Storage | PrometheusOptions:
    """What ``name`` calls in a ``jaeger_storage`` extension: a metric backend, or a storage whose spanmetrics count."""
    for extension in host.extensions().values():
        if isinstance(extension, StorageExtension):
            prometheus = extension.metric_backend(name)
            if prometheus is not None:
                return prometheus
    return find_storage(host, name, where)
