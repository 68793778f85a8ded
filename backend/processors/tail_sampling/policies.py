"""The sampling policies: each looks at one whole trace and votes to sample it or not.

Their rules are the OpenTelemetry Collector tail sampler's, so a policy list
moved between the two keeps its meaning, with these differences, each on
purpose: ``invert_match`` gives a plain vote (the Collector's
``disableinvertdecisions`` behaviour, where its deprecated default lets an
inverted match veto every other policy); and a ``composite`` sub-policy
without a ``rate_allocation`` shares what the allocations leave of
``max_total_spans_per_second`` (in the Collector it gets nothing, and never
samples).  Stateful policies (rate limits) are called under the processor's
lock, one trace at a time.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from fractions import Fraction
from typing import Protocol

from backend.processors.tail_sampling.config import STATUS_CODES, PolicyConfig
from backend.processors.tail_sampling.trace import HeldTrace

Clock = Callable[[], float]  # monotonic seconds

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_U64 = (1 << 64) - 1
# The Collector's salt when none is configured: the same salt takes the same traces, across both.
_DEFAULT_SALT = "default-hash-seed"
_DEFAULT_REGEX_CACHE = 128


class Policy(Protocol):
    def sample(self, trace: HeldTrace) -> bool: ...


class AlwaysSample:
    def sample(self, trace: HeldTrace) -> bool:
        return True


class Latency:
    """From the earliest start to the latest end: at least ``threshold_ms``, or within (threshold, upper]."""

    def __init__(self, threshold_ms: int, upper_threshold_ms: int) -> None:
        self._low = threshold_ms
        self._high = upper_threshold_ms

    def sample(self, trace: HeldTrace) -> bool:
        ms = trace.duration_ns() // 1_000_000
        if not self._high:
            return ms >= self._low
        return self._low < ms <= self._high


class StatusCode:
    """Any span with one of the listed status codes."""

    def __init__(self, names: list[str]) -> None:
        self._codes = frozenset(STATUS_CODES.index(name) for name in names)

    def sample(self, trace: HeldTrace) -> bool:
        codes = self._codes
        return any(span.status_code in codes for span in trace.spans)


class StringAttribute:
    """A resource or span attribute ``key`` whose string value is listed (or matches a listed regex).

    A regex matches anywhere in the value unless anchored (``^...$``), as Go's
    ``MatchString`` does.  With ``invert_match``, a trace is sampled when no
    value of the key matches, including when no span has the key.
    """

    def __init__(self, key: str, values: list[str], regex: bool, cache_size: int, invert: bool) -> None:
        self._key = key
        self._invert = invert
        self._exact = frozenset(v for v in values if v)
        self._patterns = [re.compile(v) for v in values] if regex else None
        self._cache: OrderedDict[str, bool] = OrderedDict()
        self._cache_size = cache_size or _DEFAULT_REGEX_CACHE

    def _matches(self, value: str) -> bool:
        if self._patterns is None:
            return value in self._exact
        known = self._cache.get(value)
        if known is not None:
            self._cache.move_to_end(value)
            return known
        matched = any(pattern.search(value) for pattern in self._patterns)
        self._cache[value] = matched
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return matched

    def sample(self, trace: HeldTrace) -> bool:
        found = any(self._matches(value) for value in trace.string_values(self._key))
        return not found if self._invert else found


class Probabilistic:
    """A share of trace ids, chosen by a salted FNV-1a hash as the Collector does: the same ids as it."""

    def __init__(self, salt: str, percentage: float) -> None:
        self._salt = (salt or _DEFAULT_SALT).encode()
        self._threshold = min(int(Fraction(percentage / 100) * _U64), _U64)  # exact: no float rounding of 2^64

    def sample(self, trace: HeldTrace) -> bool:
        return fnv1a_64(self._salt + trace.trace_id) <= self._threshold if self._threshold else False


def fnv1a_64(data: bytes) -> int:
    value = _FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * _FNV_PRIME) & _U64
    return value


class RateLimiting:
    """At most ``spans_per_second`` spans of sampled traces on average: a token bucket holding two seconds' worth."""

    def __init__(self, spans_per_second: int, clock: Clock) -> None:
        self._rate = float(spans_per_second)
        self._capacity = 2.0 * spans_per_second
        self._tokens = self._capacity
        self._clock = clock
        self._last = clock()

    def sample(self, trace: HeldTrace) -> bool:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._rate)
        self._last = now
        needed = len(trace.spans)
        if needed > self._tokens:
            return False
        self._tokens -= needed
        return True


class And:
    """Sampled when every sub-policy samples; stops at the first that does not."""

    def __init__(self, policies: list[Policy]) -> None:
        self._policies = policies

    def sample(self, trace: HeldTrace) -> bool:
        return all(policy.sample(trace) for policy in self._policies)


class Composite:
    """Sub-policies in order, each with a budget of spans per second; the first that samples within budget wins.

    A sub-policy that votes to sample but would exceed its share (or the
    total) does not sample the trace, and no later sub-policy is asked: the
    Collector's rule.  Budgets restart every whole second.
    """

    def __init__(self, subs: list[tuple[Policy, float]], max_total: int, clock: Clock) -> None:
        self._subs = subs
        self._max_total = max_total
        self._clock = clock
        self._second = -1
        self._spent = [0] * len(subs)

    def sample(self, trace: HeldTrace) -> bool:
        second = int(self._clock())
        if second != self._second:
            self._second = second
            self._spent = [0] * len(self._subs)
        count = len(trace.spans)
        for index, (policy, budget) in enumerate(self._subs):
            if policy.sample(trace):
                spent = self._spent[index] + count
                if spent <= budget and spent <= self._max_total:
                    self._spent[index] = spent
                    return True
                return False
        return False


def build(config: PolicyConfig, clock: Clock) -> Policy:
    """The policy a checked ``PolicyConfig`` describes (``config.parse_options`` checked it)."""
    kind = config.type
    if kind == "always_sample":
        return AlwaysSample()
    if kind == "latency":
        return Latency(config.latency.threshold_ms, config.latency.upper_threshold_ms)
    if kind == "status_code":
        return StatusCode(config.status_code.status_codes)
    if kind == "string_attribute":
        s = config.string_attribute
        return StringAttribute(s.key, s.values, s.enabled_regex_matching, s.cache_max_size, s.invert_match)
    if kind == "probabilistic":
        return Probabilistic(config.probabilistic.hash_salt, config.probabilistic.sampling_percentage)
    if kind == "rate_limiting":
        return RateLimiting(config.rate_limiting.spans_per_second, clock)
    if kind == "and":
        return And([build(sub, clock) for sub in config.and_.and_sub_policy])
    if kind == "composite":
        return _composite(config, clock)
    raise ValueError(f"unknown policy type {kind!r}")


def _composite(config: PolicyConfig, clock: Clock) -> Composite:
    composite = config.composite
    total = composite.max_total_spans_per_second
    by_name = {sub.name: sub for sub in composite.composite_sub_policy}
    order = composite.policy_order or list(by_name)
    allocated = {a.policy: total * a.percent / 100 for a in composite.rate_allocation}
    unallocated = [name for name in order if name not in allocated]
    if unallocated:
        left = max(total - sum(allocated.values()), 0.0)
        allocated.update(dict.fromkeys(unallocated, left / len(unallocated)))
    return Composite([(build(by_name[name], clock), allocated[name]) for name in order], total, clock)
