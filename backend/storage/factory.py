"""Storage plug-ins by name: the one list of kinds, each with its options dataclass and constructor.

Kinds are listed as ``module:attribute`` strings and imported on first use, so
choosing ``memory`` never imports SQLAlchemy.  A new plug-in adds one line to
``KINDS`` and exposes a ``StoragePlugin`` in its module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from backend.core.binding import ConfigError, bind
from backend.storage.api import Storage

KINDS: dict[str, str] = {
    "memory": "backend.storage.memory.store:PLUGIN",
    "sql": "backend.storage.sql.store:PLUGIN",
    "redis": "backend.storage.redis.store:PLUGIN",
    "clickhouse": "backend.storage.clickhouse.plugin:PLUGIN",
}


@dataclass(frozen=True)
class StoragePlugin:
    """A kind of storage: its options (bound from config) and how to build one from them."""

    options: type
    build: Callable[[Any, str], Storage]  # (bound options, where) -> storage


def known_kinds() -> list[str]:
    return sorted(KINDS)


def plugin(kind: str, where: str) -> StoragePlugin:
    target = KINDS.get(kind)
    if target is None:
        raise ConfigError(where, f"unknown storage kind {kind!r}; known kinds: {', '.join(known_kinds())}")
    module_name, attribute = target.split(":")
    found: StoragePlugin = getattr(importlib.import_module(module_name), attribute)
    return found


def bind_options(kind: str, raw_options: Mapping[str, Any] | None, where: str) -> Any:
    """The typed options of ``kind``, checked without building anything (for config validation)."""
    return bind(plugin(kind, where).options, raw_options, where)


def create_storage(kind: str, raw_options: Mapping[str, Any] | None, where: str) -> Storage:
    """A ready storage of ``kind``; errors in the options raise ConfigError located at ``where``."""
    chosen = plugin(kind, where)
    return chosen.build(bind(chosen.options, raw_options, where), where)
