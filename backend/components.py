"""Every backend component, by kind and type name: the one list that says what the backend is made of.

A config names components by these types (``otlp``, ``batch/fast`` ...).
Adding a component is one module with a ``FACTORY`` and one line here.
"""

from __future__ import annotations

from backend.component import Factory, Kind
from backend.exporters import otlp_forward
from backend.exporters import redis_streams as redis_streams_exporter
from backend.exporters import storage as storage_exporter
from backend.extensions import health, query, storage
from backend.processors import batch, spanmetrics
from backend.receivers import jaeger, otlp, redis_streams, zipkin
from backend.sampling import extension as remote_sampling
from backend.sampling import processor as adaptive_sampling

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
    # exporters: data out
    storage_exporter.FACTORY,
    otlp_forward.FACTORY,
    redis_streams_exporter.FACTORY,
    # extensions: beside the pipelines
    storage.FACTORY,
    query.FACTORY,
    health.FACTORY,
    remote_sampling.FACTORY,
]

FACTORIES: dict[Kind, dict[str, Factory]] = {kind: {} for kind in ("receiver", "processor", "exporter", "extension")}
for _factory in _ALL:
    FACTORIES[_factory.kind][_factory.type] = _factory
