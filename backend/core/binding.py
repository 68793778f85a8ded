"""Typed configuration: bind a YAML mapping onto a dataclass, with errors that say where.

Every component declares its options as a dataclass with defaults; ``bind``
checks each key against it, so an unknown key or a wrong type stops start-up
with the file, the key path and what was expected.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from backend.core.durations import parse_duration_ns

T = TypeVar("T")

# YAML scalars taken as they are: the types each hint accepts (a bool, though an int in Python, is only a bool)
_SCALARS: dict[Any, tuple[type | types.UnionType, str]] = {
    bool: (bool, "true or false"),
    int: (int, "an integer"),
    float: (int | float, "a number"),
    str: (str, "a string"),
}


class ConfigError(ValueError):
    """A configuration mistake; ``str()`` is the message to print at start-up."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


class Duration(int):
    """Nanoseconds; in YAML a Go-style duration string (``10s``) or a number of seconds."""


def bind(cls: type[T], raw: Any, where: str) -> T:
    """Build ``cls`` from ``raw`` (a mapping or None); ``where`` names it in errors (``file: key.path``)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(where, f"expected a mapping of options, got {type(raw).__name__} {raw!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}", f"unknown option; expected one of: {', '.join(sorted(fields))}")
    values = {name: _convert(hints[name], raw[name], f"{where}.{name}") for name in fields if name in raw}
    try:
        instance = cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(where, str(exc)) from exc
    return instance


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        for option in options:
            try:
                return _convert(option, value, where)
            except ConfigError:
                continue
        raise ConfigError(where, f"expected {' or '.join(_name(o) for o in options)}, got {value!r}")
    if hint is Any:
        return value
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return bind(hint, value, where)
    if hint is Duration:
        if isinstance(value, bool):
            raise ConfigError(where, f"expected a duration like 10s or 1h, got {value!r}")
        if isinstance(value, int | float):
            return Duration(round(value * 1_000_000_000))
        if isinstance(value, str):
            try:
                return Duration(parse_duration_ns(value))
            except ValueError as exc:
                raise ConfigError(where, str(exc)) from exc
        raise ConfigError(where, f"expected a duration like 10s or 1h, got {value!r}")
    if hint in _SCALARS:
        accepts, expected = _SCALARS[hint]
        if isinstance(value, accepts) and (hint is bool or not isinstance(value, bool)):
            return hint(value)  # an int where a float is wanted becomes one
        raise ConfigError(where, f"expected {expected}, got {value!r}")
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(where, f"expected a list, got {value!r}")
        return [_convert(args[0], item, f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(where, f"expected a mapping, got {value!r}")
        return {str(k): _convert(args[1], v, f"{where}.{k}") for k, v in value.items()}
    raise ConfigError(where, f"unsupported option type {hint!r}")


def _name(hint: Any) -> str:
    return getattr(hint, "__name__", str(hint))


def require_at_least_one(options: Any, names: tuple[str, ...], where: str) -> None:
    """Counts and sizes that must be positive (threads, workers, byte limits)."""
    for name in names:
        if getattr(options, name) < 1:
            raise ConfigError(f"{where}.{name}", f"expected at least 1, got {getattr(options, name)}")
