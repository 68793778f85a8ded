"""The ``remote_sampling`` extension (Jaeger v2's name): serves strategies from a file or adaptively.

    remote_sampling:
      file: {path: strategies.json, reload_interval: 10s, default_sampling_probability: 0.001}
      # or
      adaptive: {sampling_store: main, target_samples_per_second: 1, ...}
      http: {endpoint: 127.0.0.1:5778}
      grpc: {endpoint: 127.0.0.1:5779}   # optional: jaeger.api_v2.SamplingManager

Exactly one of ``file`` and ``adaptive``.  With ``adaptive``, the
``adaptive_sampling`` processor in a traces pipeline feeds it root spans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.core.binding import ConfigError, Duration, bind
from backend.core.component import ExtensionFactory, Host, Settings
from backend.core.endpoints import parse_endpoint
from backend.core.http_server import HttpServerOptions
from backend.extensions.http_extension import HttpExtension
from backend.extensions.remote_sampling.grpc import SamplingGrpcServer
from backend.extensions.storage.extension import find_storage
from backend.sampling.adaptive.engine import AdaptiveSampling
from backend.sampling.adaptive.options import AdaptiveOptions
from backend.sampling.file_strategies import DEFAULT_SAMPLING_PROBABILITY, FileStrategyProvider, StrategyFileError
from backend.sampling.strategies import StrategyProvider
from backend.storage.sampling_store import SamplingStore


@dataclass
class FileOptions:
    path: str = ""
    reload_interval: Duration = Duration(0)
    default_sampling_probability: float = DEFAULT_SAMPLING_PROBABILITY


@dataclass
class AdaptiveExtensionOptions(AdaptiveOptions):
    sampling_store: str = ""


@dataclass
class SamplingHttp(HttpServerOptions):
    endpoint: str = "127.0.0.1:5778"
    threads: int = 4


@dataclass
class SamplingGrpc:
    endpoint: str = "127.0.0.1:5779"


@dataclass
class RemoteSamplingOptions:
    file: FileOptions | None = None
    adaptive: AdaptiveExtensionOptions | None = None
    http: SamplingHttp = field(default_factory=SamplingHttp)
    grpc: SamplingGrpc | None = None  # absent: no gRPC endpoint, as in Jaeger v2


def _options(raw: Any, where: str) -> RemoteSamplingOptions:
    options = bind(RemoteSamplingOptions, raw, where)
    if (options.file is None) == (options.adaptive is None):
        raise ConfigError(where, "expected exactly one of file or adaptive")
    if options.file is not None:
        if not 0.0 <= options.file.default_sampling_probability <= 1.0:
            raise ConfigError(f"{where}.file.default_sampling_probability", "must be within [0, 1]")
        if options.file.reload_interval < 0:
            raise ConfigError(f"{where}.file.reload_interval", "must not be negative")
    if options.adaptive is not None:
        options.adaptive.validate(f"{where}.adaptive")
        if not options.adaptive.sampling_store:
            raise ConfigError(f"{where}.adaptive.sampling_store", "expected the name of a jaeger_storage backend")
    options.http.check(f"{where}.http")
    if options.grpc is not None:
        parse_endpoint(options.grpc.endpoint, f"{where}.grpc.endpoint")
    if options.http.threads < 1:
        raise ConfigError(f"{where}.http.threads", f"expected at least 1, got {options.http.threads}")
    return options


class RemoteSamplingExtension(HttpExtension):
    start_order = 10  # after jaeger_storage, whose sampling store adaptive sampling uses

    def __init__(self, settings: Settings, options: RemoteSamplingOptions):
        self._settings = settings
        self._options = options
        self._provider: StrategyProvider | None = None
        self._store: SamplingStore | None = None
        self._grpc: SamplingGrpcServer | None = None
        self.adaptive: AdaptiveSampling | None = None

    def start(self, host: Host) -> None:
        from backend.extensions.remote_sampling.http import create_app  # Flask only when the extension runs

        where = self._settings.where
        if self._options.file is not None:
            file = self._options.file
            try:
                self._provider = FileStrategyProvider(
                    file.path or None, file.reload_interval / 1e9, file.default_sampling_probability
                )
            except (OSError, StrategyFileError) as exc:
                raise ConfigError(f"{where}.file.path", str(exc)) from exc
        else:
            adaptive = self._options.adaptive
            assert adaptive is not None  # _options requires file or adaptive
            at = f"{where}.adaptive.sampling_store"
            self._store = find_storage(host, adaptive.sampling_store, at).sampling_store()
            self.adaptive = AdaptiveSampling(adaptive, self._store)
            self.adaptive.start()
            self._provider = self.adaptive
        http = self._options.http
        server = self.serve(create_app(self._provider), http, "remote sampling", "remote-sampling", http.threads)
        addresses = [server.address]
        if self._options.grpc is not None:
            grpc_host, grpc_port = parse_endpoint(self._options.grpc.endpoint, f"{where}.grpc.endpoint")
            self._grpc = SamplingGrpcServer(self._provider, grpc_host, grpc_port)
            try:
                self._grpc.start()
            except OSError:
                self._grpc = None
                self.shutdown()  # the HTTP server and the provider started above
                raise
            addresses.append(self._grpc.address)
        self._settings.logger.info(
            "remote sampling (%s) on %s", "file" if self.adaptive is None else "adaptive", ", ".join(addresses)
        )

    def endpoints(self) -> dict[str, str]:
        found = super().endpoints()
        if self._grpc is not None:
            found[f"{self._settings.id}/grpc"] = self._grpc.address
        return found

    def shutdown(self) -> None:
        self.stop_serving()
        if self._grpc is not None:
            self._grpc.stop()
            self._grpc = None
        if self._provider is not None:
            self._provider.close()
            self._provider = None
        close_store = getattr(self._store, "close", None)
        if close_store is not None:
            close_store()
        self._store = None
        self.adaptive = None


def find_adaptive(host: Host, where: str) -> AdaptiveSampling:
    """The adaptive sampling of the running ``remote_sampling`` extension (for the processor)."""
    for extension in host.extensions().values():
        if isinstance(extension, RemoteSamplingExtension) and extension.adaptive is not None:
            return extension.adaptive
    raise ConfigError(where, "adaptive_sampling needs a remote_sampling extension with adaptive: in service.extensions")


FACTORY = ExtensionFactory("remote_sampling", _options, RemoteSamplingExtension)
