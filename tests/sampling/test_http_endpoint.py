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
        },
    }


def test_sampling_path_answers_the_same(endpoint: str) -> None:
    api = requests.get(f"{endpoint}/api/sampling", params={"service": "driver"}, timeout=5).json()
    plain = requests.get(f"{endpoint}/sampling", params={"service": "driver"}, timeout=5).json()
    assert api == plain == {"strategyType": "RATE_LIMITING", "rateLimitingSampling": {"maxTracesPerSecond": 5}}


def test_legacy_root_path_uses_numeric_strategy_types(endpoint: str) -> None:
    legacy = requests.get(f"{endpoint}/", params={"service": "driver"}, timeout=5).json()
    assert legacy["strategyType"] == 1


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
