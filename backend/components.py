"""Every backend component, by kind and type name: the one list that says what the backend is made of.

A config names components by these types (``otlp``, ``batch/fast`` ...).
Adding a component is one module with a ``FACTORY`` and one line here.

Each module is imported the first time a config names its type, not when this
list is read: a role runs only some of the components (the query process reads
storage and serves the API; it has no receivers, gRPC servers or processors), and
importing all of them cost each start of it about 0.2 s of CPU on our 2-core machines.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module

from backend.core.component import Factory, Kind

_MODULES: dict[Kind, dict[str, str]] = {
    # receivers: data in
    "receiver": {
        "otlp": "backend.receivers.otlp.receiver",
        "jaeger": "backend.receivers.jaeger.receiver",
        "zipkin": "backend.receivers.zipkin.receiver",
        "redis_streams": "backend.receivers.redis_streams.receiver",
    },
    # processors: between receivers and exporters
    "processor": {
        "batch": "backend.processors.batch.processor",
        "adaptive_sampling": "backend.processors.adaptive_sampling.processor",
        "spanmetrics": "backend.processors.spanmetrics.processor",
        "tail_sampling": "backend.processors.tail_sampling.processor",
    },
    # exporters: data out
    "exporter": {
        "jaeger_storage_exporter": "backend.exporters.storage.exporter",
        "otlp_forward": "backend.exporters.otlp_forward.exporter",
        "redis_streams": "backend.exporters.redis_streams.exporter",
    },
    # extensions: beside the pipelines
    "extension": {
        "jaeger_storage": "backend.extensions.storage.extension",
        "file_storage": "backend.extensions.file_storage.extension",
        "jaeger_query": "backend.extensions.query.extension",
        "healthcheckv2": "backend.extensions.health.extension",
        "remote_sampling": "backend.extensions.remote_sampling.extension",
    },
}


class Registry(Mapping[str, Factory]):
    """The factories of one kind by type name; a type's module is imported when it is first looked up."""

    def __init__(self, kind: Kind, modules: dict[str, str]) -> None:
        self.kind = kind
        self._modules = modules

    def __getitem__(self, type_name: str) -> Factory:
        factory: Factory = import_module(self._modules[type_name]).FACTORY
        if factory.kind != self.kind or factory.type != type_name:
            raise LookupError(f"{self._modules[type_name]} holds the {factory.kind} {factory.type!r}")
        return factory

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)


FACTORIES: dict[Kind, Registry] = {kind: Registry(kind, modules) for kind, modules in _MODULES.items()}
