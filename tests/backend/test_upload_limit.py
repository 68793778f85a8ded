"""``extensions.jaeger_query.max_upload_bytes`` bounds the trace files a running backend reads whole in memory."""

from __future__ import annotations

import json

import requests

from tests.builders import SpanSpec, otlp_json


def test_a_file_over_the_configured_size_is_refused_with_413(start_backend):
    backend = start_backend("--storage", "memory", "--set", "extensions.jaeger_query.max_upload_bytes=300")
    body = json.dumps(otlp_json([SpanSpec("frontend", "root", attributes={"note": "x" * 400})]))

    transform = requests.post(backend.url("query", "/api/transform"), data=body, timeout=10)
    critical = requests.post(backend.url("query", "/upload/critical-path"), data=body, timeout=10)

    assert transform.status_code == 413
    assert transform.json()["errors"][0]["msg"] == "the body must be an OTLP/JSON file of at most 300 bytes"
    assert critical.status_code == 413
