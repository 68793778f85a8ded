"""Configuration mistakes stop start-up with the key that is wrong, as the Collector's checks would."""

from __future__ import annotations

from typing import Any

import pytest

from backend.core.binding import ConfigError
from backend.processors.tail_sampling.config import parse_options
from tests.tail_sampling.support import WHERE

ERRORS = {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}}


def error_for(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_options(raw, WHERE)
    return str(caught.value)


def test_the_collectors_keys_and_defaults_are_taken() -> None:
    options = parse_options({"policies": [ERRORS], "expected_new_traces_per_sec": 10}, WHERE)
    assert (options.decision_wait, options.num_traces) == (30_000_000_000, 50_000)
    assert options.policies[0].status_code.status_codes == ["ERROR"]


@pytest.mark.parametrize(
    ("raw", "where", "says"),
    [
        ({}, "policies", "at least one policy"),
        ({"policies": [ERRORS], "num_traces": 0}, "num_traces", "at least 1"),
        ({"policies": [ERRORS], "decision_wait": "0s"}, "decision_wait", "positive"),
        ({"policies": [ERRORS, ERRORS]}, "policies[1].name", "used twice"),
        ({"policies": [{"type": "always_sample"}]}, "policies[0].name", "expected a name"),
        ({"policies": [{"name": "x", "type": "sometimes"}]}, "policies[0].type", "always_sample"),
        ({"policies": [{"name": "x", "type": "status_code", "status_code": {"status_codes": ["FAIL"]}}]},
         "policies[0].status_code.status_codes[0]", "UNSET, OK, ERROR"),
        ({"policies": [{"name": "x", "type": "latency", "latency": {"threshold_ms": 10, "upper_threshold_ms": 5}}]},
         "policies[0].latency.upper_threshold_ms", "more than threshold_ms"),
        ({"policies": [{"name": "x", "type": "string_attribute", "string_attribute": {"key": "k", "values": ["("],
                                                                                     "enabled_regex_matching": True}}]},
         "policies[0].string_attribute.values[0]", "regular expression"),
        ({"policies": [{"name": "x", "type": "probabilistic", "probabilistic": {"sampling_percentage": 101}}]},
         "policies[0].probabilistic.sampling_percentage", "0 to 100"),
        ({"policies": [{"name": "x", "type": "rate_limiting"}]}, "policies[0].rate_limiting.spans_per_second", "1"),
        ({"policies": [{"name": "x", "type": "and", "and": {"and_sub_policy": [{"name": "c", "type": "composite"}]}}]},
         "policies[0].and.and_sub_policy[0].type", "expected one of"),
        ({"policies": [{"name": "x", "type": "composite", "composite": {
            "max_total_spans_per_second": 10, "composite_sub_policy": [ERRORS],
            "rate_allocation": [{"policy": "nobody", "percent": 10}]}}]},
         "policies[0].composite.rate_allocation[0].policy", "'nobody'"),
        ({"policies": [{"name": "x", "type": "latency", "latncy": {}}]}, "policies[0].latncy", "unknown option"),
    ],
)  # fmt: skip
def test_a_mistake_names_its_key(raw: dict[str, Any], where: str, says: str) -> None:
    message = error_for(raw)
    assert message.startswith(f"{WHERE}.{where}:"), message
    assert says in message
