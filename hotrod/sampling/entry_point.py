"""``OTEL_TRACES_SAMPLER=jaeger_remote`` / ``parentbased_jaeger_remote``: the sampler from ``OTEL_TRACES_SAMPLER_ARG``.

Both names are entry points of the SDK's ``opentelemetry_traces_sampler`` group (pyproject.toml),
so the SDK's own configuration (``opentelemetry-instrument``) finds them by name.
The SDK hands the factory only the argument string
(``endpoint=…,pollingIntervalMs=…,initialSamplingRate=…``, the names the
OpenTelemetry specification gives), so the service name comes from the same
place the SDK's resource takes it: ``OTEL_SERVICE_NAME`` /
``OTEL_RESOURCE_ATTRIBUTES``.  A bad value is logged and replaced by its
default rather than failing: the SDK would otherwise fall back to sampling
everything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace.sampling import ParentBased

from hotrod.sampling.remote import (
    DEFAULT_ENDPOINT,
    DEFAULT_INITIAL_SAMPLING_RATE,
    DEFAULT_POLLING_INTERVAL_S,
    JaegerRemoteSampler,
    strategy_url,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


def parse_sampler_arg(arg: str | None) -> tuple[str, float, float]:
    """``(endpoint, polling interval in seconds, initial sampling rate)`` from the argument string."""
    endpoint, interval_s, rate = DEFAULT_ENDPOINT, DEFAULT_POLLING_INTERVAL_S, DEFAULT_INITIAL_SAMPLING_RATE
    for item in (arg or "").split(","):
        key, separator, value = (part.strip() for part in item.partition("="))
        if not key:
            continue
        if not separator:
            log.warning("OTEL_TRACES_SAMPLER_ARG: %r is not key=value; ignored", item)
        elif key == "endpoint":
            endpoint = _parsed(value, key, endpoint, lambda v: v if strategy_url(v) else None)
        elif key == "pollingIntervalMs":
            interval_s = _parsed(value, key, interval_s, lambda v: int(v) / 1000 if int(v) > 0 else None)
        elif key == "initialSamplingRate":
            rate = _parsed(value, key, rate, lambda v: float(v) if 0.0 <= float(v) <= 1.0 else None)
        else:
            log.warning("OTEL_TRACES_SAMPLER_ARG: unknown key %r ignored", key)
    return endpoint, interval_s, rate


def _parsed(value: str, key: str, default: T, convert: Callable[[str], T | None]) -> T:
    try:
        result = convert(value)
    except ValueError:
        result = None
    if result is None:
        log.warning("OTEL_TRACES_SAMPLER_ARG: %s=%r is invalid; using %s", key, value, default)
        return default
    return result


def remote_sampler(service: str, arg: str | None) -> JaegerRemoteSampler:
    """The remote sampler of ``service``, configured by the argument string."""
    endpoint, interval_s, rate = parse_sampler_arg(arg)
    return JaegerRemoteSampler(service, endpoint=endpoint, polling_interval_s=interval_s, initial_sampling_rate=rate)


def jaeger_remote_sampler(arg: str | None) -> JaegerRemoteSampler:
    return remote_sampler(str(Resource.create().attributes.get(SERVICE_NAME, "unknown_service")), arg)


def parentbased_jaeger_remote_sampler(arg: str | None) -> ParentBased:
    """Follows a sampled or unsampled parent; only root spans ask the remote strategy."""
    return ParentBased(jaeger_remote_sampler(arg))
