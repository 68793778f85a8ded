"""The built-in config's ports (Jaeger v2's all-in-one set) bind 127.0.0.1, and a taken one is named in the error."""

from __future__ import annotations

import re
import socket

import pytest

from backend.config import read
from backend.core.ports import ENDPOINTS
from backend.service import BackendService
from tests.spm.conftest import build_config

UDP = {"jaeger-compact", "jaeger-binary"}
LABELS = {
    "sampling-grpc": "remote sampling gRPC",
    "jaeger-compact": "jaeger receiver (thrift_compact, UDP)",
    "jaeger-binary": "jaeger receiver (thrift_binary, UDP)",
    "jaeger-http": "jaeger receiver (Thrift over HTTP)",
    "jaeger-grpc": "jaeger receiver (Jaeger gRPC)",
    "zipkin": "zipkin receiver (Zipkin v1 and v2 HTTP)",
}


def at(tree: dict, dotted: str):  # noqa: ANN201 - any YAML value
    for part in dotted.split("."):
        tree = tree[part]
    return tree


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_every_built_in_port_is_jaegers_on_loopback(name: str):
    path, port, _ = ENDPOINTS[name]

    assert at(read(None), path) == f"127.0.0.1:{port}"


def test_the_legacy_receivers_are_in_the_traces_pipeline():
    assert read(None)["service"]["pipelines"]["traces"]["receivers"] == ["otlp", "jaeger", "zipkin"]


@pytest.mark.parametrize("name", list(LABELS))
def test_a_taken_port_is_named_with_what_wanted_it(name: str):
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if name in UDP else socket.SOCK_STREAM)
    taken.bind(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    path = ENDPOINTS[name][0]
    service = BackendService(build_config("memory", None, {path: f"127.0.0.1:{port}"}))
    try:
        with pytest.raises(Exception, match=re.escape(LABELS[name]) + rf".* cannot listen on 127\.0\.0\.1:{port}\b"):
            service.start()
    finally:
        service.shutdown()
        taken.close()
