"""How a root span was sampled, from what the span itself says.

In order: the ``sampler.type`` / ``sampler.param`` attributes that Jaeger
clients (and our Python sampler) set; else the OpenTelemetry ``th``
threshold in the span's ``tracestate``; else nothing, and the caller assumes
the probability it served (what an unmodified SDK running the remote sampler
applies).  Only root spans are decoded, one per trace, so the cost stays off
the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import DecodeError
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

PROBABILISTIC = "probabilistic"
LOWER_BOUND = "lowerbound"
RATE_LIMITING = "ratelimiting"
CONST = "const"
KNOWN_TYPES = frozenset({PROBABILISTIC, LOWER_BOUND, RATE_LIMITING, CONST})
_MAX_THRESHOLD = 1 << 56


@dataclass(frozen=True, slots=True)
class SamplerInfo:
    sampler_type: str
    param: float


def sampler_info(payload: bytes) -> SamplerInfo | None:
    """What the span says about its sampling; None when it says nothing usable."""
    if b"sampler.type" not in payload and b"th:" not in payload:
        return None  # neither an attribute nor the trace state can say it: no need to decode (~3 us a root)
    span = Span()
    try:
        span.ParseFromString(payload)
    except DecodeError:
        return None
    sampler_type: str | None = None
    param: float | None = None
    for attribute in span.attributes:
        if attribute.key == "sampler.type":
            sampler_type = attribute.value.string_value
        elif attribute.key == "sampler.param":
            param = _number(attribute.value)
    if sampler_type in KNOWN_TYPES and param is not None:
        return SamplerInfo(sampler_type, param)
    probability = threshold_probability(span.trace_state)
    if probability is not None:
        return SamplerInfo(PROBABILISTIC, probability)
    return None


def _number(value: AnyValue) -> float | None:
    kind = value.WhichOneof("value")
    if kind == "double_value":
        return float(value.double_value)
    if kind == "int_value":
        return float(value.int_value)
    if kind == "string_value":
        try:
            return float(value.string_value)
        except ValueError:
            return None
    return None


def threshold_probability(trace_state: str) -> float | None:
    """The sampling probability an ``ot=th:…`` entry stands for (OTel probability sampling spec)."""
    for member in trace_state.split(","):
        key, _, value = member.strip().partition("=")
        if key != "ot":
            continue
        for sub in value.split(";"):
            if sub.startswith("th:"):
                digits = sub[3:]
                if not 1 <= len(digits) <= 14:
                    return None
                try:
                    threshold = int(digits.ljust(14, "0"), 16)
                except ValueError:
                    return None
                return 1.0 - threshold / _MAX_THRESHOLD
    return None
