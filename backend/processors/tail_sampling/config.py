"""The ``tail_sampling`` options, in the OpenTelemetry Collector contrib processor's shape.

Same keys as the Collector's (``decision_wait``, ``num_traces``,
``expected_new_traces_per_sec``, ``policies`` with ``name``, ``type`` and one
mapping named after the type), so a Collector config's policies paste in.
Every mistake the Collector finds at start-up is found here too, located
at its key (``policies[2].latency.upper_threshold_ms``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from backend.core.binding import ConfigError, Duration, bind

STATUS_CODES = ("UNSET", "OK", "ERROR")  # OTLP Status.StatusCode 0, 1, 2
LEAF_TYPES = ("always_sample", "latency", "status_code", "string_attribute", "probabilistic", "rate_limiting")
POLICY_TYPES = (*LEAF_TYPES, "and", "composite")
_S = 1_000_000_000


@dataclass
class LatencyConfig:
    threshold_ms: int = 0
    upper_threshold_ms: int = 0  # 0: no upper bound


@dataclass
class StatusCodeConfig:
    status_codes: list[str] = field(default_factory=list)


@dataclass
class StringAttributeConfig:
    key: str = ""
    values: list[str] = field(default_factory=list)
    enabled_regex_matching: bool = False
    cache_max_size: int = 0  # matched values remembered per policy (regex only); 0: 128, as the Collector
    invert_match: bool = False


@dataclass
class ProbabilisticConfig:
    hash_salt: str = ""
    sampling_percentage: float = 0.0


@dataclass
class RateLimitingConfig:
    spans_per_second: int = 0


@dataclass
class RateAllocation:
    policy: str = ""
    percent: int = 0


@dataclass
class CompositeConfig:
    max_total_spans_per_second: int = 0
    policy_order: list[str] = field(default_factory=list)
    composite_sub_policy: list[Any] = field(default_factory=list)  # PolicyConfig, bound by policy()
    rate_allocation: list[RateAllocation] = field(default_factory=list)


@dataclass
class AndConfig:
    and_sub_policy: list[Any] = field(default_factory=list)  # PolicyConfig, bound by policy()


@dataclass
class PolicyConfig:
    name: str = ""
    type: str = ""
    latency: LatencyConfig = field(default_factory=LatencyConfig)
    status_code: StatusCodeConfig = field(default_factory=StatusCodeConfig)
    string_attribute: StringAttributeConfig = field(default_factory=StringAttributeConfig)
    probabilistic: ProbabilisticConfig = field(default_factory=ProbabilisticConfig)
    rate_limiting: RateLimitingConfig = field(default_factory=RateLimitingConfig)
    composite: CompositeConfig = field(default_factory=CompositeConfig)
    and_: AndConfig = field(default_factory=AndConfig)  # ``and`` in YAML: a Python keyword


@dataclass
class TailSamplingOptions:
    decision_wait: Duration = Duration(30 * _S)
    num_traces: int = 50_000
    # Only checked against num_traces (a warning when rate x decision_wait does not fit): Python's dicts
    # size themselves, there is nothing to preallocate.
    expected_new_traces_per_sec: int = 0
    policies: list[Any] = field(default_factory=list)  # PolicyConfig, bound by options()
    # Not in the Collector: the wait before retrying a delivery the next consumer refused, and the hint sent
    # upstream with this processor's own refusals.
    retry_after: Duration = Duration(_S)


def parse_options(raw: Any, where: str) -> TailSamplingOptions:
    bound = bind(TailSamplingOptions, raw, where)
    if bound.decision_wait <= 0:
        raise ConfigError(f"{where}.decision_wait", "expected a positive duration, such as 10s")
    if bound.num_traces < 1:
        raise ConfigError(f"{where}.num_traces", f"expected at least 1, got {bound.num_traces}")
    if bound.expected_new_traces_per_sec < 0:
        raise ConfigError(f"{where}.expected_new_traces_per_sec", "expected 0 or more")
    if bound.retry_after <= 0:
        raise ConfigError(f"{where}.retry_after", "expected a positive duration, such as 1s")
    if not bound.policies:
        raise ConfigError(f"{where}.policies", "expected at least one policy (name, type and its options)")
    bound.policies = _policies(bound.policies, f"{where}.policies", POLICY_TYPES)
    return bound


def _policies(raw: list[Any], where: str, allowed: tuple[str, ...]) -> list[PolicyConfig]:
    bound = [policy(item, f"{where}[{i}]", allowed) for i, item in enumerate(raw)]
    seen: set[str] = set()
    for i, item in enumerate(bound):
        if item.name in seen:
            raise ConfigError(f"{where}[{i}].name", f"policy name {item.name!r} is used twice")
        seen.add(item.name)
    return bound


def policy(raw: Any, where: str, allowed: tuple[str, ...]) -> PolicyConfig:
    if not isinstance(raw, Mapping):
        raise ConfigError(where, f"expected a policy mapping (name, type, ...), got {raw!r}")
    renamed = {("and_" if key == "and" else key): value for key, value in raw.items()}
    if "and_" in raw:
        raise ConfigError(f"{where}.and_", "unknown option; the and policy's options go under `and`")
    bound = bind(PolicyConfig, renamed, where)
    if not bound.name:
        raise ConfigError(f"{where}.name", "expected a name: it labels the policy's metrics")
    if bound.type not in allowed:
        raise ConfigError(f"{where}.type", f"expected one of: {', '.join(allowed)}; got {bound.type!r}")
    _CHECKS[bound.type](bound, f"{where}.{'and' if bound.type == 'and' else bound.type}")
    return bound


def _no_check(_: PolicyConfig, __: str) -> None:
    """always_sample has nothing to check."""


def _latency(p: PolicyConfig, where: str) -> None:
    latency = p.latency
    if latency.threshold_ms < 0:
        raise ConfigError(f"{where}.threshold_ms", "expected 0 or more milliseconds")
    if latency.upper_threshold_ms and latency.upper_threshold_ms <= latency.threshold_ms:
        raise ConfigError(f"{where}.upper_threshold_ms", "expected 0 (no upper bound) or more than threshold_ms")


def _status_code(p: PolicyConfig, where: str) -> None:
    codes = p.status_code.status_codes
    if not codes:
        raise ConfigError(f"{where}.status_codes", f"expected at least one of {', '.join(STATUS_CODES)}")
    for i, code in enumerate(codes):
        if code not in STATUS_CODES:
            raise ConfigError(f"{where}.status_codes[{i}]", f"expected one of {', '.join(STATUS_CODES)}, got {code!r}")


def _string_attribute(p: PolicyConfig, where: str) -> None:
    config = p.string_attribute
    if not config.key:
        raise ConfigError(f"{where}.key", "expected the attribute key to match")
    if not config.values:
        raise ConfigError(f"{where}.values", "expected at least one value")
    if config.cache_max_size < 0:
        raise ConfigError(f"{where}.cache_max_size", "expected 0 (the default size) or more")
    if config.enabled_regex_matching:
        for i, value in enumerate(config.values):
            try:
                re.compile(value)
            except re.error as exc:
                raise ConfigError(f"{where}.values[{i}]", f"not a regular expression: {exc}") from exc


def _probabilistic(p: PolicyConfig, where: str) -> None:
    if not 0 <= p.probabilistic.sampling_percentage <= 100:
        raise ConfigError(f"{where}.sampling_percentage", "expected a percentage from 0 to 100")


def _rate_limiting(p: PolicyConfig, where: str) -> None:
    if p.rate_limiting.spans_per_second < 1:
        raise ConfigError(f"{where}.spans_per_second", "expected at least 1")


def _and(p: PolicyConfig, where: str) -> None:
    subs = p.and_.and_sub_policy
    if not subs:
        raise ConfigError(f"{where}.and_sub_policy", "expected at least one sub-policy")
    p.and_.and_sub_policy = _policies(subs, f"{where}.and_sub_policy", LEAF_TYPES)


def _composite(p: PolicyConfig, where: str) -> None:
    config = p.composite
    if config.max_total_spans_per_second < 1:
        raise ConfigError(f"{where}.max_total_spans_per_second", "expected at least 1")
    if not config.composite_sub_policy:
        raise ConfigError(f"{where}.composite_sub_policy", "expected at least one sub-policy")
    subs = _policies(config.composite_sub_policy, f"{where}.composite_sub_policy", (*LEAF_TYPES, "and"))
    config.composite_sub_policy = subs
    names = [sub.name for sub in subs]
    for i, name in enumerate(config.policy_order):
        if name not in names:
            raise ConfigError(f"{where}.policy_order[{i}]", f"no sub-policy is named {name!r}")
    if config.policy_order and sorted(config.policy_order) != sorted(names):
        raise ConfigError(f"{where}.policy_order", f"expected each sub-policy name exactly once: {names}")
    total = 0
    for i, allocation in enumerate(config.rate_allocation):
        if allocation.policy not in names:
            raise ConfigError(f"{where}.rate_allocation[{i}].policy", f"no sub-policy is named {allocation.policy!r}")
        if not 0 < allocation.percent <= 100:
            raise ConfigError(f"{where}.rate_allocation[{i}].percent", "expected a percentage from 1 to 100")
        total += allocation.percent
    if total > 100:
        raise ConfigError(f"{where}.rate_allocation", f"the percentages add up to {total}, more than 100")


_CHECKS = {
    "always_sample": _no_check,
    "latency": _latency,
    "status_code": _status_code,
    "string_attribute": _string_attribute,
    "probabilistic": _probabilistic,
    "rate_limiting": _rate_limiting,
    "and": _and,
    "composite": _composite,
}
