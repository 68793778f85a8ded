"""Each service samples as OTEL_TRACES_SAMPLER says: the SDK's own samplers by the SDK, Jaeger remote per service."""

from __future__ import annotations

import pytest

from hotrod.telemetry import Telemetry

NOWHERE = "http://127.0.0.1:1"  # a strategy endpoint that never answers: samplers keep their initial rate


def sampler_of(service: str, sampling_endpoint: str | None = None) -> str:
    telemetry = Telemetry([service], sampling_endpoint=sampling_endpoint)
    try:
        return telemetry.providers[service].sampler.get_description()
    finally:
        telemetry.shutdown()


@pytest.fixture(autouse=True)
def no_export(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    monkeypatch.delenv("OTEL_TRACES_SAMPLER_ARG", raising=False)


def test_unset_is_the_sdks_default() -> None:
    assert sampler_of("route").startswith("ParentBased{root:AlwaysOnSampler,")


def test_an_sdk_sampler_is_built_by_the_sdk_from_its_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.25")
    assert sampler_of("route") == "TraceIdRatioBased{0.25}"


def test_parentbased_jaeger_remote_asks_for_this_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_jaeger_remote")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", f"endpoint={NOWHERE}/sampling")
    assert sampler_of("route").startswith(f"ParentBased{{root:JaegerRemoteSampler{{service=route,endpoint={NOWHERE}")


def test_a_bundled_backend_means_jaeger_remote_unless_told_otherwise() -> None:
    expected = f"JaegerRemoteSampler{{service=driver,endpoint={NOWHERE}/sampling}}"
    assert sampler_of("driver", sampling_endpoint=NOWHERE) == expected
