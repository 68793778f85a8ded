"""Jaeger's strategies file: how services, operations and defaults combine, and how reloads behave."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from backend.sampling.file_strategies import FileStrategyProvider, StrategyFileError, parse_strategies
from backend.sampling.strategies import OperationSampling, SamplingStrategy
from tests.support import wait_for

FILE = {
    "default_strategy": {
        "type": "probabilistic",
        "param": 0.5,
        "operation_strategies": [
            {"operation": "/health", "type": "probabilistic", "param": 0.0},
            {"operation": "shared", "type": "probabilistic", "param": 0.2},
        ],
    },
    "service_strategies": [
        {
            "service": "frontend",
            "type": "probabilistic",
            "param": 0.8,
            "operation_strategies": [
                {"operation": "shared", "type": "probabilistic", "param": 0.9},
                {"operation": "spam", "type": "ratelimiting", "param": 10},
            ],
        },
        {"service": "driver", "type": "ratelimiting", "param": 5},
        {"service": "route", "type": "probabilistic", "param": 0.3},
    ],
}


def test_unknown_service_gets_the_default_strategy() -> None:
    strategies = parse_strategies(json.dumps(FILE))
    assert strategies.for_service("nobody") == strategies.default
    assert strategies.default.probability == 0.5
    assert strategies.default.operation_sampling.per_operation == {"/health": 0.0, "shared": 0.2}


def test_service_operations_take_precedence_over_the_defaults_and_rate_limits_are_skipped() -> None:
    frontend = parse_strategies(json.dumps(FILE)).for_service("frontend")
    assert frontend.operation_sampling == OperationSampling(0.8, per_operation={"shared": 0.9, "/health": 0.0})


def test_probabilistic_service_without_operations_inherits_them_with_its_own_default() -> None:
    route = parse_strategies(json.dumps(FILE)).for_service("route")
    assert route.operation_sampling == OperationSampling(0.3, per_operation={"/health": 0.0, "shared": 0.2})


def test_rate_limited_service_inherits_the_default_operations_unchanged() -> None:
    driver = parse_strategies(json.dumps(FILE)).for_service("driver")
    assert driver.max_traces_per_second == 5
    assert driver.operation_sampling.default_probability == 0.5


def test_empty_file_means_the_configured_default_probability() -> None:
    assert parse_strategies("{}", default_probability=0.25).default == SamplingStrategy.probabilistic(0.25)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("{", "not valid JSON"),
        ('{"default_strategy": {"type": "sometimes", "param": 1}}', "default_strategy.type"),
        ('{"default_strategy": {"type": "probabilistic", "param": 1.5}}', "within [0, 1]"),
        ('{"service_strategies": [{"type": "probabilistic", "param": 1}]}', "service_strategies[0]: needs a service"),
        ('{"service_strategies": [{"service": "a", "type": "probabilistic", "param": "x"}]}', "expected a number"),
    ],
)
def test_broken_files_are_refused_with_the_reason(text: str, complaint: str) -> None:
    with pytest.raises(StrategyFileError, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        parse_strategies(text)


def _write(path: Path, document: object) -> None:
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)


def test_a_broken_file_at_start_up_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "strategies.json"
    _write(path, "{oops")
    with pytest.raises(StrategyFileError, match="strategies.json"):
        FileStrategyProvider(path)


def test_reload_picks_up_changes(tmp_path: Path) -> None:
    path = tmp_path / "strategies.json"
    _write(path, {"default_strategy": {"type": "probabilistic", "param": 0.1}})
    provider = FileStrategyProvider(path)
    _write(path, {"default_strategy": {"type": "probabilistic", "param": 0.7}})
    assert provider.reload()
    assert provider.get_strategy("any").probability == 0.7


def test_broken_reload_keeps_the_last_good_strategies_and_logs_why(tmp_path: Path, caplog) -> None:
    path = tmp_path / "strategies.json"
    _write(path, {"default_strategy": {"type": "probabilistic", "param": 0.1}})
    provider = FileStrategyProvider(path)
    _write(path, {"default_strategy": {"type": "probabilistic", "param": 7}})
    with caplog.at_level(logging.ERROR):
        assert not provider.reload()
    assert provider.get_strategy("any").probability == 0.1
    assert "within [0, 1]" in caplog.text
    path.unlink()
    assert not provider.reload()
    assert provider.get_strategy("any").probability == 0.1


def test_periodic_reload_runs_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "strategies.json"
    _write(path, {"default_strategy": {"type": "probabilistic", "param": 0.1}})
    provider = FileStrategyProvider(path, reload_interval_s=0.05)
    try:
        _write(path, {"default_strategy": {"type": "ratelimiting", "param": 3}})
        wait_for(lambda: provider.get_strategy("x").max_traces_per_second == 3, timeout=10, what="a reload")
    finally:
        provider.close()
