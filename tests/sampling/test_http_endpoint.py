"""The remote sampling endpoint over real HTTP, and our SDK sampler applying what it serves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from backend.extensions.remote_sampling.http import create_app
from backend.sampling.file_strategies import FileStrategyProvider
from hotrod.sampling import JaegerRemoteSampler
from tests.sampling.wsgi_server import serving
from tests.support import wait_for

FILE = {
    "default_strategy": {"type": "probabilistic", "param": 0.5},
    "service_strategies": [
        {
            "service": "frontend",
            "type": "probabilistic",
            "param": 0.8,
            "operation_strategies": [{"operation": "HTTP GET /dispatch", "type": "probabilistic", "param": 0.25}],
        },
        {"service": "driver", "type": "ratelimiting", "param": 5},
    ],
}


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "strategies.json"
    path.write_text(json.dumps(FILE))
    provider = FileStrategyProvider(path)
    with serving(create_app(provider)) as url:
        yield url
    provider.close()


def test_service_strategy_in_protobuf_json(endpoint: str) -> None:
    response = requests.get(f"{endpoint}/api/sampling", params={"service": "frontend"}, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {
        "strategyType": "PROBABILISTIC",
        "probabilisticSampling": {"samplingRate": 0.8},
        "operationSampling": {
            "defaultSamplingProbability": 0.8,
            "defaultLowerBoundTracesPerSecond": 0.0,
            "perOperationStrategies": [
                {"operation": "HTTP GET /dispatch", "probabilisticSampling": {"samplingRate": 0.25}}
            ],
            "defaultUpperBoundTracesPerSecond": 0.0,
        },
    }


@pytest.mark.parametrize("path", ["/sampling", "/"])
def test_every_path_answers_as_api_sampling_does_with_the_type_by_name(endpoint: str, path: str) -> None:
    # Jaeger v2 serves one handler on every path; none answers Thrift 0.9.2's numeric strategyType any more.
    api = requests.get(f"{endpoint}/api/sampling", params={"service": "driver"}, timeout=5).json()
    other = requests.get(f"{endpoint}{path}", params={"service": "driver"}, timeout=5).json()
    assert api == other == {"strategyType": "RATE_LIMITING", "rateLimitingSampling": {"maxTracesPerSecond": 5}}


def test_unknown_service_gets_the_default(endpoint: str) -> None:
    document = requests.get(f"{endpoint}/api/sampling", params={"service": "stranger"}, timeout=5).json()
    assert document == {"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 0.5}}


@pytest.mark.parametrize("query", ["", "?service=", "?service=a&service=b"])
def test_service_must_be_given_once(endpoint: str, query: str) -> None:
    response = requests.get(f"{endpoint}/api/sampling{query}", timeout=5)
    assert response.status_code == 400
    assert "service" in response.text


def test_sdk_sampler_applies_what_the_endpoint_serves(endpoint: str) -> None:
    sampler = JaegerRemoteSampler("frontend", endpoint=f"{endpoint}/api/sampling", polling_interval_s=60)
    try:
        wait_for(lambda: sampler.updates >= 1, timeout=10, what="the sampler to adopt the served strategy")
        assert sampler.probability_for("HTTP GET /dispatch") == 0.25
        assert sampler.probability_for("HTTP GET /other") == 0.8
    finally:
        sampler.close()
