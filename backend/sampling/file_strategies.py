"""Sampling strategies from a file in Jaeger's format, reloaded periodically.

The format (``default_strategy``, ``service_strategies``,
``operation_strategies``, each with ``type`` ``probabilistic`` or
``ratelimiting`` and ``param``) is read as Jaeger reads it: a service without
operation strategies inherits the default's (with its own probability as the
default one), a service with some gets the default's added underneath, and
operation strategies can only be probabilistic.  A file that does not parse is
refused as a whole: at start-up that is an error, on reload the last good
strategies stay and the log says why.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from backend.core.periodic import Periodic
from backend.sampling.strategies import PROBABILISTIC, OperationSampling, SamplingStrategy

log = logging.getLogger(__name__)

DEFAULT_SAMPLING_PROBABILITY = 0.001


class StrategyFileError(ValueError):
    """The strategies file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Strategies:
    default: SamplingStrategy
    services: dict[str, SamplingStrategy] = field(default_factory=dict)

    def for_service(self, service: str) -> SamplingStrategy:
        return self.services.get(service, self.default)


def parse_strategies(text: str, default_probability: float = DEFAULT_SAMPLING_PROBABILITY) -> Strategies:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StrategyFileError(f"not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise StrategyFileError("expected a JSON object with default_strategy and service_strategies")
    default = SamplingStrategy.probabilistic(default_probability)
    if document.get("default_strategy") is not None:
        default = _service_strategy(document["default_strategy"], "default_strategy", default_probability)
    services: dict[str, SamplingStrategy] = {}
    entries = document.get("service_strategies") or []
    if not isinstance(entries, list):
        raise StrategyFileError("service_strategies must be a list")
    for index, entry in enumerate(entries):
        where = f"service_strategies[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("service"), str) or not entry["service"]:
            raise StrategyFileError(f"{where}: needs a service name")
        strategy = _service_strategy(entry, f"{where} ({entry['service']})", default_probability)
        services[entry["service"]] = _inherit(strategy, default.operation_sampling)
    return Strategies(default, services)


def _inherit(strategy: SamplingStrategy, defaults: OperationSampling | None) -> SamplingStrategy:
    if defaults is None:
        return strategy
    own = strategy.operation_sampling
    if own is None:
        inherited = defaults
        if strategy.strategy_type == PROBABILISTIC and strategy.probability is not None:
            inherited = replace(defaults, default_probability=strategy.probability)
        return replace(strategy, operation_sampling=inherited)
    merged = dict(own.per_operation)
    for name, rate in defaults.per_operation.items():
        merged.setdefault(name, rate)
    return replace(strategy, operation_sampling=replace(own, per_operation=merged))


def _service_strategy(entry: Any, where: str, default_probability: float) -> SamplingStrategy:
    if not isinstance(entry, dict):
        raise StrategyFileError(f"{where}: expected an object")
    strategy = _strategy(entry, where)
    operations = entry.get("operation_strategies") or []
    if not isinstance(operations, list):
        raise StrategyFileError(f"{where}.operation_strategies: must be a list")
    if not operations:
        return strategy
    per_operation: dict[str, float] = {}
    for index, operation in enumerate(operations):
        op_where = f"{where}.operation_strategies[{index}]"
        if not isinstance(operation, dict) or not isinstance(operation.get("operation"), str):
            raise StrategyFileError(f"{op_where}: needs an operation name")
        parsed = _strategy(operation, op_where)
        if parsed.strategy_type != PROBABILISTIC or parsed.probability is None:
            log.warning("%s: operation strategies can only be probabilistic; %r ignored", op_where, operation)
            continue
        per_operation[operation["operation"]] = parsed.probability
    base = strategy.probability if strategy.probability is not None else default_probability
    return replace(strategy, operation_sampling=OperationSampling(base, per_operation=per_operation))


def _strategy(entry: dict[str, Any], where: str) -> SamplingStrategy:
    kind = entry.get("type")
    param = entry.get("param", 0)
    if isinstance(param, bool) or not isinstance(param, int | float) or not math.isfinite(param):
        raise StrategyFileError(f"{where}.param: expected a number, got {param!r}")
    if kind == "probabilistic":
        if not 0.0 <= param <= 1.0:
            raise StrategyFileError(f"{where}.param: a probability must be within [0, 1], got {param}")
        return SamplingStrategy.probabilistic(float(param))
    if kind == "ratelimiting":
        if param < 0:
            raise StrategyFileError(f"{where}.param: traces per second must not be negative, got {param}")
        return SamplingStrategy.rate_limiting(int(param))
    raise StrategyFileError(f"{where}.type: expected probabilistic or ratelimiting, got {kind!r}")


class FileStrategyProvider:
    """Serves the file's strategies; when ``reload_interval_s`` > 0 a daemon thread re-reads the file."""

    def __init__(
        self,
        path: str | Path | None,
        reload_interval_s: float = 0.0,
        default_probability: float = DEFAULT_SAMPLING_PROBABILITY,
    ) -> None:
        self._path = Path(path) if path else None
        self._default_probability = default_probability
        self._strategies = Strategies(SamplingStrategy.probabilistic(default_probability))
        self._last_text: str | None = None
        self._reloads: Periodic | None = None
        if self._path is None:
            return
        self._load(self._read())
        if reload_interval_s > 0:
            self._reloads = Periodic("sampling-file-reload", reload_interval_s, self.reload, log)
            self._reloads.start()

    def get_strategy(self, service: str) -> SamplingStrategy:
        return self._strategies.for_service(service)

    def close(self) -> None:
        if self._reloads is not None:
            self._reloads.stop(timeout=5)

    def reload(self) -> bool:
        """Re-read the file now; False (and a log line saying why) when it is unreadable or broken."""
        try:
            text = self._read()
            if text != self._last_text:
                self._load(text)
                log.info("sampling strategies reloaded from %s", self._path)
        except (OSError, StrategyFileError) as exc:
            log.error("sampling strategies in %s not reloaded, keeping the previous ones: %s", self._path, exc)
            return False
        return True

    def _read(self) -> str:
        assert self._path is not None
        try:
            return self._path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise StrategyFileError(f"{self._path}: not UTF-8 text: {exc}") from exc

    def _load(self, text: str) -> None:
        try:
            self._strategies = parse_strategies(text, self._default_probability)
        except StrategyFileError as exc:
            raise StrategyFileError(f"{self._path}: {exc}") from exc
        self._last_text = text
