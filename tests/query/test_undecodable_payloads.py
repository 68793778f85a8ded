"""A stored span whose attributes do not parse (ingest does not look inside them) is shown, not fatal."""

from __future__ import annotations

import json

import pytest

from backend.spans.otlp import parse_protobuf, to_batch
from tests.builders import SpanSpec, export_request

SPEC = SpanSpec("frontend", "HTTP GET /dispatch", attributes={"customer": "ABCDE"}, status_code=2)


@pytest.fixture
def stored(api):
    body = export_request([SPEC, SPEC.child("driver", "FindNearest")]).SerializeToString()
    api.storage.writer().write(to_batch(parse_protobuf(body.replace(b"ABCDE", b"\xff\xfeCDE"))).batch)
    return api


def test_the_jaeger_api_shows_the_indexed_fields_with_a_warning(stored):
    response = stored.get(f"/api/traces/{SPEC.trace_id.hex()}")

    assert response.status_code == 200
    spans = {span["operationName"]: span for span in response.json["data"][0]["spans"]}
    assert spans["HTTP GET /dispatch"]["duration"] == SPEC.duration_ns // 1000
    assert {"key": "error", "type": "bool", "value": True} in spans["HTTP GET /dispatch"]["tags"]
    assert "could not be decoded" in spans["HTTP GET /dispatch"]["warnings"][0]
    assert spans["FindNearest"]["warnings"] is None


def test_the_otlp_api_returns_the_indexed_fields(stored):
    response = stored.get(f"/api/v3/traces/{SPEC.trace_id.hex()}")

    assert response.status_code == 200
    names = [
        span["name"]
        for resource_spans in response.json["result"]["resourceSpans"]
        for scope_spans in resource_spans["scopeSpans"]
        for span in scope_spans["spans"]
    ]
    assert sorted(names) == ["FindNearest", "HTTP GET /dispatch"]


def test_a_tag_search_passes_over_it(stored):
    response = stored.get("/api/traces", service="frontend", tags=json.dumps({"customer": "ABCDE"}))

    assert response.status_code == 200 and response.json["data"] == []
