"""Every bad metrics parameter is a 400 in Jaeger's error envelope; no metrics reader is a 501."""

from __future__ import annotations

import pytest

from tests.spm.conftest import Backend

BAD = [
    ("calls", {}, "service"),
    ("calls", {"service": "a", "groupByOperation": "maybe"}, "groupByOperation"),
    ("calls", {"service": "a", "spanKind": "sideways"}, "spanKind"),
    ("calls", {"service": "a", "endTs": "yesterday"}, "endTs"),
    ("calls", {"service": "a", "endTs": "-5"}, "endTs"),
    ("calls", {"service": "a", "lookback": "1h"}, "lookback"),
    ("calls", {"service": "a", "lookback": "0"}, "lookback"),
    ("calls", {"service": "a", "step": "-1000"}, "step"),
    ("calls", {"service": "a", "step": "1.5"}, "step"),
    ("calls", {"service": "a", "ratePer": "0"}, "ratePer"),
    ("calls", {"service": "a", "lookback": "86400000", "step": "1"}, "step"),
    ("errors", {"service": "a", "ratePer": "ten"}, "ratePer"),
    ("latencies", {"service": "a"}, "quantile"),
    ("latencies", {"service": "a", "quantile": "high"}, "quantile"),
    ("latencies", {"service": "a", "quantile": "1.5"}, "quantile"),
    ("latencies", {"service": "a", "quantile": "-0.1"}, "quantile"),
    ("latencies", {"service": "a", "quantile": "nan"}, "quantile"),
]


@pytest.mark.parametrize(("kind", "params", "named"), BAD)
def test_bad_parameter_is_a_400_naming_it(shared_backend: Backend, kind: str, params: dict, named: str) -> None:
    response = shared_backend.metrics(kind, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["data"] is None and body["total"] == 0
    (error,) = body["errors"]
    assert error["code"] == 400 and named in error["msg"]


def test_unknown_metrics_path_is_a_json_404(shared_backend: Backend) -> None:
    response = shared_backend.metrics("nonsense", service="a")
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == 404


def test_without_a_metrics_storage_every_endpoint_is_501(start_backend) -> None:
    backend = start_backend("memory", extra={"extensions.jaeger_query.storage.metrics": ""})
    for kind in ("calls", "errors", "latencies", "minstep"):
        response = backend.metrics(kind, service="a", quantile="0.5")
        assert response.status_code == 501
        assert "disabled" in response.json()["errors"][0]["msg"]


def test_a_metrics_storage_nobody_fills_is_501(start_backend) -> None:
    backend = start_backend("memory", extra={"processors.batch": {}, "service.pipelines.traces.processors": ["batch"]})
    response = backend.metrics("calls", service="a")
    assert response.status_code == 501 and "spanmetrics" in response.json()["errors"][0]["msg"]
