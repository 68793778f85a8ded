"""Selecting the sampler the way the SDK does: OTEL_TRACES_SAMPLER=jaeger_remote plus its argument string."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from hotrod.sampling import JaegerRemoteSampler
from hotrod.sampling.entry_point import parse_sampler_arg
from hotrod.sampling.remote import DEFAULT_ENDPOINT
from tests.sampling.conftest import StrategyServer
from tests.support import wait_for

SHOW_SAMPLER = "from opentelemetry import trace; print(trace.get_tracer_provider().sampler.get_description())"


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("jaeger_remote", "JaegerRemoteSampler{service=checkout,endpoint=%s}"),
        ("parentbased_jaeger_remote", "ParentBased{root:JaegerRemoteSampler{service=checkout,endpoint=%s},"),
    ],
)
def test_the_sdks_own_configuration_picks_our_sampler_by_name(name: str, shape: str) -> None:
    """``opentelemetry-instrument`` (the SDK's configuration) reads OTEL_TRACES_SAMPLER and finds our entry point."""
    endpoint = "http://127.0.0.1:1/sampling"  # never answers: the sampler keeps its initial rate
    env = {
        **os.environ,
        "OTEL_TRACES_SAMPLER": name,
        "OTEL_TRACES_SAMPLER_ARG": f"endpoint={endpoint}",
        "OTEL_SERVICE_NAME": "checkout",
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "*",
    }
    instrument = Path(sys.executable).parent / "opentelemetry-instrument"
    shown = subprocess.run(
        [str(instrument), sys.executable, "-c", SHOW_SAMPLER], env=env, capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(shape % endpoint), shown.stdout


def test_the_entry_point_builds_the_sampler_from_the_environment(monkeypatch, strategy_server: StrategyServer) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "checkout")
    monkeypatch.setenv(
        "OTEL_TRACES_SAMPLER_ARG", f"endpoint={strategy_server.url},pollingIntervalMs=50,initialSamplingRate=0.25"
    )
    strategy_server.release.clear()  # hold the first poll: the initial rate must apply meanwhile
    (factory,) = entry_points(group="opentelemetry_traces_sampler", name="jaeger_remote")
    sampler = factory.load()(os.environ["OTEL_TRACES_SAMPLER_ARG"])
    try:
        assert isinstance(sampler, JaegerRemoteSampler)
        assert sampler.polling_interval_s == 0.05
        assert sampler.probability_for("anything") == 0.25
        strategy_server.release.set()
        wait_for(lambda: "checkout" in strategy_server.services, timeout=10, what="a poll for service checkout")
    finally:
        sampler.close()


def test_defaults_follow_the_specification_names() -> None:
    assert parse_sampler_arg(None) == (DEFAULT_ENDPOINT, 60.0, 0.001)


def test_a_host_only_endpoint_gets_the_sampling_path() -> None:
    sampler = JaegerRemoteSampler("svc", endpoint="http://collector:5778", start=False)
    assert sampler.url == "http://collector:5778/sampling"


@pytest.mark.parametrize(
    "arg",
    ["pollingIntervalMs=-5", "initialSamplingRate=2", "initialSamplingRate=x", "endpoint=not a url", "nonsense"],
)
def test_bad_values_fall_back_to_their_defaults(arg: str) -> None:
    assert parse_sampler_arg(arg) == (DEFAULT_ENDPOINT, 60.0, 0.001)
