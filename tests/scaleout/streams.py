"""The two in-process roles of a span stream, as backend configs, and a sender: shared by the stream tests.

A collector is OTLP in → ``redis_streams`` exporter; an ingester is ``redis_streams``
receiver → memory storage, with the query API on that storage.  Every port is 0.
"""

from __future__ import annotations

from typing import Any

import requests

from backend.service import BackendService
from tests.builders import SpanSpec, export_request
from tests.support import ANY_PORT


def collector_config(url: str, stream: str, processors: tuple[str, ...] = (), **exporter: Any) -> dict[str, Any]:
    return {
        "service": {
            "extensions": [],
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": list(processors), "exporters": ["redis_streams"]}
            },
            "telemetry": {"metrics": {"address": ANY_PORT}},
        },
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": ANY_PORT}}}},
        "processors": {name: None for name in processors},
        "exporters": {"redis_streams": {"url": url, "stream": stream, **exporter}},
    }


def ingester_config(url: str, stream: str, consumer: str = "ingester-1", **receiver: Any) -> dict[str, Any]:
    return {
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query"],
            "pipelines": {"traces": {"receivers": ["redis_streams"], "exporters": ["jaeger_storage_exporter"]}},
            "telemetry": {"metrics": {"address": ANY_PORT}},
        },
        "extensions": {
            "jaeger_storage": {"backends": {"main": {"memory": {}}}},
            "jaeger_query": {"storage": {"traces": "main"}, "http": {"endpoint": ANY_PORT}},
        },
        "receivers": {
            "redis_streams": {"url": url, "stream": stream, "consumer": consumer, "block": "100ms", **receiver}
        },
        "exporters": {"jaeger_storage_exporter": {"trace_storage": "main"}},
    }


def send(collector: BackendService, *specs: SpanSpec) -> requests.Response:
    return requests.post(
        f"http://{collector.endpoints['otlp/http']}/v1/traces",
        data=export_request(list(specs)).SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
        timeout=30,
    )
