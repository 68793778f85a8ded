"""Selecting the sampler the way the SDK does: OTEL_TRACES_SAMPLER=jaeger_remote plus its argument string."""

from __future__ import annotations

import pytest
from opentelemetry.sdk._configuration import _import_sampler

from hotrod.sampling import JaegerRemoteSampler
from hotrod.sampling.entry_point import parse_sampler_arg
from hotrod.sampling.remote import DEFAULT_ENDPOINT
from tests.sampling.conftest import StrategyServer
from tests.support import wait_for


def test_sdk_builds_the_sampler_from_the_environment(monkeypatch, strategy_server: StrategyServer) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "checkout")
    monkeypatch.setenv(
        "OTEL_TRACES_SAMPLER_ARG", f"endpoint={strategy_server.url},pollingIntervalMs=50,initialSamplingRate=0.25"
    )
    strategy_server.release.clear()  # hold the first poll: the initial rate must apply meanwhile
    sampler = _import_sampler("jaeger_remote")
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
