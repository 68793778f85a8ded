"""/api/metrics read from a real Prometheus that scrapes the backend's spanmetrics, as Jaeger reads it."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from tests.builders import SpanSpec
from tests.spm.conftest import Backend, unique
from tests.support import wait_for

PROMETHEUS = "/usr/bin/prometheus"
LISTENING = re.compile(r'msg="Listening on" address=(\S+)')
MS = 1_000_000
WINDOW = {"lookback": 60_000, "step": 5_000, "ratePer": 60_000}


@pytest.fixture
def prometheus(tmp_path: Path, shared_backend: Backend) -> Iterator[str]:
    """Prometheus scraping the shared backend's metrics endpoint every second; its URL."""
    if not Path(PROMETHEUS).exists():
        pytest.skip(f"{PROMETHEUS} is not installed (apt-get install -y prometheus)")
    target = shared_backend.service.endpoints["metrics"]
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"scrape_configs: [{{job_name: backend, static_configs: [{{targets: ['{target}']}}]}}]\n"
    )
    log = tmp_path / "prometheus.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             "--web.listen-address=127.0.0.1:0"],
            stdout=subprocess.DEVNULL, stderr=output,
        )  # fmt: skip
    try:
        # Prometheus logs the address it bound: msg="Listening on" address=127.0.0.1:PORT
        found = wait_for(lambda: LISTENING.search(log.read_text()), timeout=30, what=f"Prometheus listening ({log})")
        url = f"http://{found.group(1)}"
        wait_for(lambda: requests.get(f"{url}/-/ready", timeout=2).ok, timeout=30, what="Prometheus ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def scraped_calls(prometheus: str, service: str) -> float:
    query = f'sum(traces_span_metrics_calls_total{{service_name="{service}"}})'
    result = requests.get(f"{prometheus}/api/v1/query", params={"query": query}, timeout=5).json()["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def test_rates_and_quantiles_come_from_prometheus(shared_backend: Backend, prometheus: str, start_backend) -> None:
    service = unique("scraped")
    error = Status.STATUS_CODE_ERROR
    # Every series exists before the measured increase, with counts large enough that rate()'s extrapolation
    # is the same for all of them (Prometheus stops it where a small counter would reach zero).
    shared_backend.send(
        [SpanSpec(service, "GET /p", duration_ns=3 * MS) for _ in range(100)]
        + [SpanSpec(service, "GET /p", duration_ns=3 * MS, status_code=error) for _ in range(100)]
    )
    wait_for(lambda: scraped_calls(prometheus, service) == 200, timeout=20, what="first scrape")
    shared_backend.send(
        [SpanSpec(service, "GET /p", duration_ns=3 * MS, status_code=error if i < 4 else 0) for i in range(20)]
        + [SpanSpec(service, "GET /p", duration_ns=300 * MS) for _ in range(10)]
    )
    wait_for(lambda: scraped_calls(prometheus, service) == 230, timeout=20, what="second scrape")
    reader = start_backend(
        "memory",
        extra={
            "extensions.jaeger_storage.metric_backends": {"prom": {"prometheus": {"endpoint": prometheus}}},
            "extensions.jaeger_query.storage.metrics": "prom",
        },
    )

    def last(kind: str, **params: object) -> float:
        body = reader.metrics(kind, service=service, **WINDOW, **params).json()
        (series,) = body["metrics"]
        return series["metricPoints"][-1]["gaugeValue"]["doubleValue"]

    assert last("calls") > 0
    assert last("errors") == pytest.approx(4 / 30)
    assert 2 <= last("latencies", quantile=0.5) <= 4
    assert 200 <= last("latencies", quantile=0.95) <= 400
    grouped = reader.metrics("calls", service=service, groupByOperation="true", **WINDOW).json()
    assert grouped["name"] == "service_operation_call_rate"
    assert {label["name"]: label["value"] for label in grouped["metrics"][0]["labels"]} == {
        "service_name": service,
        "operation": "GET /p",
    }


def test_an_unreachable_prometheus_is_a_500_in_the_envelope(start_backend, refusing_port: int) -> None:
    reader = start_backend(
        "memory",
        extra={
            "extensions.jaeger_storage.metric_backends": {
                "prom": {"prometheus": {"endpoint": f"http://127.0.0.1:{refusing_port}"}}
            },
            "extensions.jaeger_query.storage.metrics": "prom",
        },
    )
    response = reader.metrics("calls", service="any")
    assert response.status_code == 500
    assert "failed executing metrics query" in response.json()["errors"][0]["msg"]
