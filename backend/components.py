"""Every backend component, by kind and type name: the one list that says what the backend is made of.

A config names components by these types (``otlp``, ``batch/fast`` ...).
Adding a component is one module with a ``FACTORY`` and one line here.
"""

from __future__ import annotations

from backend.core.component import Factory, Kind
from backend.exporters.otlp_forward import exporter as otlp_forward
from backend.exporters.redis_streams import exporter as redis_streams_exporter
from backend.exporters.storage import exporter as storage_exporter
from backend.extensions.file_storage import extension as file_storage
from backend.extensions.health import extension as health
from backend.extensions.query import extension as query
from backend.extensions.remote_sampling import extension as remote_sampling
from backend.extensions.storage import extension as storage
from backend.processors.adaptive_sampling import processor as adaptive_sampling
from backend.processors.batch import processor as batch
from backend.processors.spanmetrics import processor as spanmetrics
from backend.processors.tail_sampling import processor as tail_sampling
from backend.receivers.jaeger import receiver as jaeger
from backend.receivers.otlp import receiver as otlp
from backend.receivers.redis_streams import receiver as redis_streams
from backend.receivers.zipkin import receiver as zipkin

_ALL: list[Factory] = [
    # receivers: data in
    otlp.FACTORY,
    jaeger.FACTORY,
    zipkin.FACTORY,
    redis_streams.FACTORY,
    # processors: between receivers and exporters
    batch.FACTORY,
    adaptive_sampling.FACTORY,
    spanmetrics.FACTORY,
    tail_sampling.FACTORY,
    # exporters: data out
    storage_exporter.FACTORY,
    otlp_forward.FACTORY,
    redis_streams_exporter.FACTORY,
    # extensions: beside the pipelines
    storage.FACTORY,
    file_storage.FACTORY,
    query.FACTORY,
    health.FACTORY,
    remote_sampling.FACTORY,
]

FACTORIES: dict[Kind, dict[str, Factory]] = {kind: {} for kind in ("receiver", "processor", "exporter", "extension")}
for _factory in _ALL:
    FACTORIES[_factory.kind][_factory.type] = _factory
