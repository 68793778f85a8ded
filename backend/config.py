"""The backend's configuration, in Jaeger v2's (the OpenTelemetry Collector's) shape.

::

    receivers / processors / exporters / extensions:   id → options
    service:
      extensions: [ids]
      pipelines: {traces: {receivers: [ids], processors: [ids], exporters: [ids]}}
      telemetry: {metrics: {address: host:port, level: basic|none}, logs: {level: info}}

A component id is ``type`` or ``type/name``.  Everything is checked here,
before anything starts: unknown types, ids a pipeline names but nobody
defines, every component's options (bound onto its typed options).  Each
error names the file and the key path, as ``ConfigError`` from
``backend.core.binding``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from backend.components import FACTORIES
from backend.core.binding import ConfigError, bind
from backend.core.component import Factory, Kind
from backend.core.endpoints import parse_endpoint

DEFAULT_CONFIG = Path(__file__).with_name("default_config.yaml")
DEFAULT_SOURCE = "built-in default config"

_SECTIONS: dict[str, Kind] = {
    "receivers": "receiver",
    "processors": "processor",
    "exporters": "exporter",
    "extensions": "extension",
}
_TOP_LEVEL = (*_SECTIONS, "service")
_ID = re.compile(r"^([a-z][a-z0-9_]*)(?:/([A-Za-z0-9_.\-]+))?$")


@dataclass(frozen=True, slots=True)
class ComponentConfig:
    id: str
    factory: Factory
    options: Any
    where: str


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    id: str
    receivers: list[str]
    processors: list[str]
    exporters: list[str]


@dataclass
class MetricsTelemetry:
    address: str = "127.0.0.1:8888"
    level: str = "basic"  # "none" turns the /metrics server off

    def __post_init__(self) -> None:
        if self.level not in ("none", "basic", "normal", "detailed"):
            raise ValueError(f"level: expected none, basic, normal or detailed, got {self.level!r}")


@dataclass
class LogsTelemetry:
    level: str = "info"

    def __post_init__(self) -> None:
        if self.level.lower() not in ("debug", "info", "warn", "warning", "error"):
            raise ValueError(f"level: expected debug, info, warn or error, got {self.level!r}")


@dataclass
class Telemetry:
    metrics: MetricsTelemetry = field(default_factory=MetricsTelemetry)
    logs: LogsTelemetry = field(default_factory=LogsTelemetry)


@dataclass
class _PipelineOptions:
    receivers: list[str] = field(default_factory=list)
    processors: list[str] = field(default_factory=list)
    exporters: list[str] = field(default_factory=list)


@dataclass
class _ServiceOptions:
    extensions: list[str] = field(default_factory=list)
    pipelines: dict[str, _PipelineOptions] = field(default_factory=dict)
    telemetry: Telemetry = field(default_factory=Telemetry)


@dataclass
class Config:
    source: str
    receivers: dict[str, ComponentConfig]
    processors: dict[str, ComponentConfig]
    exporters: dict[str, ComponentConfig]
    extensions: dict[str, ComponentConfig]
    service_extensions: list[str]
    pipelines: dict[str, PipelineConfig]
    telemetry: Telemetry


def load(path: str | None, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """The config in ``path`` (the built-in default when None) with ``key.path=value`` overrides applied."""
    tree = read(path)
    source = path or DEFAULT_SOURCE
    apply_overrides(tree, overrides, source)
    return from_mapping(tree, source)


def read(path: str | None) -> dict[str, Any]:
    where = path or DEFAULT_SOURCE
    try:
        text = Path(path).read_text() if path else DEFAULT_CONFIG.read_text()
    except OSError as exc:
        raise ConfigError(where, f"cannot read the config file: {exc.strerror or exc}") from exc
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(where, f"not valid YAML: {exc}") from exc
    if tree is None:
        tree = {}
    if not isinstance(tree, dict):
        raise ConfigError(where, f"expected a mapping at the top level, got {type(tree).__name__}")
    return tree


def apply_overrides(tree: dict[str, Any], overrides: list[str] | tuple[str, ...], source: str) -> None:
    """Apply ``a.b.c=value`` overrides like the Collector's --set; values are YAML (``8``, ``{memory: {}}``)."""
    for override in overrides:
        key, sep, text = override.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {override}", "expected key.path=value")
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError as exc:
            raise ConfigError(f"--set {override}", f"value is not valid YAML: {exc}") from exc
        set_path(tree, key.strip(), value, f"--set {override}")


def set_path(tree: dict[str, Any], dotted: str, value: Any, where: str) -> None:
    node = tree
    parts = dotted.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(where, f"{part} holds {child!r}, not a mapping, so {dotted} cannot be set")
        node = child
    node[parts[-1]] = value


def from_mapping(tree: dict[str, Any], source: str) -> Config:
    unknown = sorted(set(tree) - set(_TOP_LEVEL))
    if unknown:
        raise ConfigError(f"{source}: {unknown[0]}", f"unknown section; expected one of: {', '.join(_TOP_LEVEL)}")
    sections: dict[str, dict[str, ComponentConfig]] = {}
    for section, kind in _SECTIONS.items():
        raw = tree.get(section) or {}
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: {section}", f"expected a mapping of component id to options, got {raw!r}")
        sections[section] = {
            str(cid): _component(kind, section, str(cid), options, source, FACTORIES[kind])
            for cid, options in raw.items()
        }
    service = bind(_ServiceOptions, tree.get("service"), f"{source}: service")
    for i, ext in enumerate(service.extensions):
        if ext not in sections["extensions"]:
            raise ConfigError(f"{source}: service.extensions[{i}]", f"{ext!r} is not defined under extensions")
    if not service.pipelines and not service.extensions:
        # A query-only role runs extensions alone; a config with neither would do nothing.
        raise ConfigError(f"{source}: service", "expected at least one pipeline (e.g. traces) or extension")
    pipelines = {}
    for pid, pipe in service.pipelines.items():
        where = f"{source}: service.pipelines.{pid}"
        if _ID.match(pid) is None or pid.split("/")[0] != "traces":
            raise ConfigError(where, "expected a traces pipeline id: traces or traces/NAME")
        for role in ("receivers", "exporters"):
            if not getattr(pipe, role):
                raise ConfigError(f"{where}.{role}", f"a pipeline needs at least one of its {role}")
        for role in ("receivers", "processors", "exporters"):
            for i, cid in enumerate(getattr(pipe, role)):
                if cid not in sections[role]:
                    raise ConfigError(f"{where}.{role}[{i}]", f"{cid!r} is not defined under {role}")
        pipelines[pid] = PipelineConfig(pid, pipe.receivers, pipe.processors, pipe.exporters)
    parse_endpoint(service.telemetry.metrics.address, f"{source}: service.telemetry.metrics.address")
    return Config(
        source=source,
        receivers=sections["receivers"],
        processors=sections["processors"],
        exporters=sections["exporters"],
        extensions=sections["extensions"],
        service_extensions=service.extensions,
        pipelines=pipelines,
        telemetry=service.telemetry,
    )


def _component(
    kind: str, section: str, cid: str, raw: Any, source: str, factories: Mapping[str, Factory]
) -> ComponentConfig:
    where = f"{source}: {section}.{cid}"
    match = _ID.match(cid)
    if match is None:
        raise ConfigError(where, "a component id is TYPE or TYPE/NAME (lower-case type)")
    factory = factories.get(match.group(1))
    if factory is None:
        known = ", ".join(sorted(factories))
        raise ConfigError(where, f"unknown {kind} type {match.group(1)!r}; known {kind}s: {known}")
    return ComponentConfig(cid, factory, factory.options(raw, where), where)
