"""Each policy type on traces whose fate is known, through the processor as a pipeline runs it."""

from __future__ import annotations

import random

from backend.core.selfmetrics import SelfMetrics
from backend.processors.tail_sampling.metrics import read
from backend.processors.tail_sampling.policies import fnv1a_64
from tests.builders import batch_of
from tests.tail_sampling.support import ERROR, MS, Taker, decide_all, kept, offer, tail_sampler, trace


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def decided(policies, traces, clock=None) -> list[int]:
    taker = Taker()
    decide_all(tail_sampler(taker, policies, clock), traces)
    return kept(taker, traces)


def test_status_code_keeps_a_trace_with_any_error_span() -> None:
    failing = trace(spans=3)
    failing[2].status_code = ERROR
    traces = [trace(), failing, trace()]
    assert decided([{"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}}], traces) == [
        1
    ]


def test_latency_measures_from_the_earliest_start_to_the_latest_end() -> None:
    spread = trace(duration_ms=100)
    spread[1].start_ns = spread[0].start_ns + 900 * MS  # ends 901 ms after the root started
    traces = [trace(duration_ms=100), spread, trace(duration_ms=2000)]
    assert decided([{"name": "slow", "type": "latency", "latency": {"threshold_ms": 900}}], traces) == [1, 2]


def test_latency_with_an_upper_bound_keeps_only_durations_above_the_threshold_up_to_the_bound() -> None:
    traces = [trace(duration_ms=ms) for ms in (100, 101, 300, 301)]
    policy = {"name": "band", "type": "latency", "latency": {"threshold_ms": 100, "upper_threshold_ms": 300}}
    assert decided([policy], traces) == [1, 2]


def test_string_attribute_matches_span_and_resource_values_exactly() -> None:
    traces = [
        trace(attributes={"http.route": "/checkout"}),
        trace(resource={"http.route": "/checkout"}),
        trace(attributes={"http.route": "/checkout/2"}),
        trace(attributes={"other": "/checkout"}),
    ]
    policy = {
        "name": "route",
        "type": "string_attribute",
        "string_attribute": {"key": "http.route", "values": ["/checkout"]},
    }
    assert decided([policy], traces) == [0, 1]


def test_string_attribute_regexes_match_anywhere_unless_anchored() -> None:
    traces = [trace(attributes={"url": value}) for value in ("/api/v1/x", "/v2/api/x", "/health")]
    options = {"key": "url", "values": ["^/api/", "health$"], "enabled_regex_matching": True}
    assert decided([{"name": "re", "type": "string_attribute", "string_attribute": options}], traces) == [0, 2]


def test_string_attribute_inverted_keeps_traces_without_a_matching_value() -> None:
    traces = [trace(attributes={"env": "test"}), trace(attributes={"env": "prod"}), trace()]
    options = {"key": "env", "values": ["test"], "invert_match": True}
    assert decided([{"name": "not-test", "type": "string_attribute", "string_attribute": options}], traces) == [1, 2]


def test_probabilistic_hashes_trace_ids_as_the_collector_does() -> None:
    assert fnv1a_64(b"") == 0xCBF29CE484222325  # FNV-1a 64 reference values
    assert fnv1a_64(b"a") == 0xAF63DC4C8601EC8C
    ids = random.Random(18)  # random ids, as SDKs make them (FNV-1a spreads ids differing in a last byte badly)
    traces = [trace(trace_id=ids.randbytes(16)) for _ in range(2000)]
    share = len(decided([{"name": "p", "type": "probabilistic", "probabilistic": {"sampling_percentage": 25}}], traces))
    assert 400 <= share <= 600
    assert (
        decided([{"name": "none", "type": "probabilistic", "probabilistic": {"sampling_percentage": 0}}], traces) == []
    )


def test_rate_limiting_keeps_two_seconds_of_spans_then_refills_with_time() -> None:
    clock = FrozenClock()
    taker = Taker()
    policy = {"name": "r", "type": "rate_limiting", "rate_limiting": {"spans_per_second": 10}}
    processor = tail_sampler(taker, [policy], clock, num_traces=1)  # each trace decided as the next arrives
    traces = [trace(spans=5) for _ in range(8)]
    for i, specs in enumerate(traces):
        if i == 6:
            clock.now += 1.0  # trace 5 and later are decided a second on: 10 more tokens
        offer(processor, batch_of(specs))
    processor.shutdown()
    assert kept(taker, traces) == [0, 1, 2, 3, 5, 6]  # 20 tokens: four traces of 5 spans; then 10: two


def test_and_keeps_only_what_every_sub_policy_keeps() -> None:
    failing_checkout = trace(attributes={"http.route": "/checkout"}, status_code=ERROR)
    failing_other = trace(attributes={"http.route": "/other"}, status_code=ERROR)
    healthy_checkout = trace(attributes={"http.route": "/checkout"})
    policy = {
        "name": "checkout-errors",
        "type": "and",
        "and": {
            "and_sub_policy": [
                {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
                {
                    "name": "route",
                    "type": "string_attribute",
                    "string_attribute": {"key": "http.route", "values": ["/checkout"]},
                },
            ]
        },
    }
    assert decided([policy], [failing_checkout, failing_other, healthy_checkout]) == [0]


def test_composite_gives_each_sub_policy_its_share_of_spans_per_second() -> None:
    policy = {
        "name": "budget",
        "type": "composite",
        "composite": {
            "max_total_spans_per_second": 20,
            "policy_order": ["errors", "rest"],
            "composite_sub_policy": [
                {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
                {"name": "rest", "type": "always_sample"},
            ],
            "rate_allocation": [{"policy": "errors", "percent": 50}],
        },
    }
    errors = [trace(spans=2, status_code=ERROR) for _ in range(7)]
    healthy = [trace(spans=2) for _ in range(7)]
    # one second: errors may use 10 spans (5 traces), the rest the other 10; an error past its share is not
    # handed to the next sub-policy
    assert decided([policy], errors + healthy, FrozenClock()) == [0, 1, 2, 3, 4, 7, 8, 9, 10, 11]


def test_always_sample_keeps_everything() -> None:
    traces = [trace() for _ in range(3)]
    assert decided([{"name": "all", "type": "always_sample"}], traces) == [0, 1, 2]


def test_a_trace_is_kept_when_any_policy_keeps_it_and_each_policy_is_counted() -> None:
    taker = Taker()
    policies = [
        {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
        {"name": "slow", "type": "latency", "latency": {"threshold_ms": 500}},
    ]
    metrics = SelfMetrics()
    processor = tail_sampler(taker, policies, metrics=metrics)
    traces = [trace(status_code=ERROR), trace(duration_ms=800), trace(duration_ms=900, status_code=ERROR), trace()]
    decide_all(processor, traces)
    assert kept(taker, traces) == [0, 1, 2]
    [counts] = read(metrics.registry)
    assert (counts.sampled, counts.not_sampled) == (3, 1)
    by_policy = {name: (p.sampled, p.not_sampled) for name, p in counts.policies.items()}
    assert by_policy == {"errors": (2, 2), "slow": (2, 2)}
