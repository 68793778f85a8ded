"""Deciding whether the query API gets its own process, and building that process's config.

The split is made on the config tree (the YAML mapping), before anything is
bound, so the child's config is an ordinary query-role config (as
``deploy/roles/query.yaml``) that ``from_mapping`` checks like any other.

Only storages that a second process can open are shared: ``sql`` on a file or a
server, ``redis`` and ``clickhouse`` by URL.  The ``memory`` store lives in the
ingesting interpreter, an in-memory SQLite database is private to its
connection, and the embedded Redis and chDB engines belong to the process that
started them, so with those ``auto`` keeps the query API in process and ``on``
is a configuration error that says why.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from backend.core.binding import ConfigError

MODES = ("auto", "on", "off")
QUERY_ID = "jaeger_query"
_STORAGE = "jaeger_storage"


@dataclass(frozen=True)
class Split:
    """The ingesting process's config (without ``jaeger_query``) and the query process's."""

    parent: dict[str, Any]
    child: dict[str, Any]
    # a tail_sampling processor counts in the parent: the child reads its counters from the parent's /metrics
    tail_sampling: bool = False


def plan(tree: dict[str, Any], mode: str, source: str) -> Split | None:
    """The split ``mode`` asks for, or ``None`` to keep the query API in this process.

    Nothing to split unless the config both ingests (has a pipeline) and serves
    ``jaeger_query``: a query-only role is already a process of its own.
    """
    if mode not in MODES:
        raise ConfigError("--query-process", f"expected one of {', '.join(MODES)}, got {mode!r}")
    service = tree.get("service") or {}
    if mode == "off" or QUERY_ID not in (service.get("extensions") or []) or not service.get("pipelines"):
        return None
    query = (tree.get("extensions") or {}).get(QUERY_ID) or {}
    names = _storage_names(query)
    storages = _storage_extensions(tree, service)
    for name in names:
        found = _backend(storages, name)
        if found is None:
            continue  # a metric backend (Prometheus), or a name from_mapping will reject
        reason = unshareable(*found)
        if reason:
            if mode == "on":
                where = f"{source}: extensions.{_owner(storages, name)}.backends.{name}"
                raise ConfigError(where, f"the query API cannot run in its own process (--query-process on): {reason}")
            return None
    return Split(_parent(tree), _child(tree, query, names, storages), bool(_in_pipelines(tree, "tail_sampling")))


def unshareable(kind: str, options: Any) -> str:
    """Why a second process cannot open this storage, or ``""`` when it can."""
    options = options if isinstance(options, dict) else {}
    url = str(options.get("url") or "")
    if kind == "memory":
        return "the memory storage lives in the ingesting process's memory"
    if kind == "sql":
        url = url or "sqlite:///data/traces.db"
        if url.rstrip("/") in ("sqlite:", "sqlite+pysqlite:") or ":memory:" in url or "mode=memory" in url:
            return "an in-memory SQLite database is private to its process"
    if kind in ("redis", "clickhouse") and not url:
        engine = "Redis server" if kind == "redis" else "chDB engine"
        return f"the embedded {engine} belongs to the ingesting process (give a url to share one)"
    return ""


def _storage_names(query: dict[str, Any]) -> list[str]:
    storage = query.get("storage") or {}
    names = [storage.get("traces"), storage.get("dependencies"), storage.get("metrics")]
    return list(dict.fromkeys(str(name) for name in names if name))


def _storage_extensions(tree: dict[str, Any], service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every started ``jaeger_storage`` extension: id → its options."""
    extensions = tree.get("extensions") or {}
    return {
        eid: extensions.get(eid) or {} for eid in service.get("extensions") or [] if str(eid).split("/")[0] == _STORAGE
    }


def _backend(storages: dict[str, dict[str, Any]], name: str) -> tuple[str, Any] | None:
    for options in storages.values():
        spec = (options.get("backends") or {}).get(name)
        if isinstance(spec, dict) and len(spec) == 1:
            ((kind, kind_options),) = spec.items()
            return str(kind), kind_options
    return None


def _owner(storages: dict[str, dict[str, Any]], name: str) -> str:
    return next(eid for eid, options in storages.items() if name in (options.get("backends") or {}))


def _parent(tree: dict[str, Any]) -> dict[str, Any]:
    parent = copy.deepcopy(tree)
    parent["service"]["extensions"] = [eid for eid in parent["service"]["extensions"] if eid != QUERY_ID]
    del parent["extensions"][QUERY_ID]
    return parent


def _child(
    tree: dict[str, Any], query: dict[str, Any], names: list[str], storages: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    extensions: dict[str, Any] = {}
    for eid, options in storages.items():
        backends = {n: s for n, s in (options.get("backends") or {}).items() if n in names}
        metric_backends = {n: s for n, s in (options.get("metric_backends") or {}).items() if n in names}
        if backends or metric_backends:
            # purge_interval 0: retention is the ingesting process's job, not repeated here
            extensions[eid] = copy.deepcopy({"backends": backends, "metric_backends": metric_backends})
            extensions[eid]["purge_interval"] = 0
    child_query = copy.deepcopy(query)
    metrics = (query.get("storage") or {}).get("metrics")
    history = _spanmetrics_filling(tree, metrics) if metrics else None
    if history is not None:
        child_query["metrics_history"] = history
    telemetry = copy.deepcopy((tree.get("service") or {}).get("telemetry") or {})
    telemetry["metrics"] = {"level": "none"}  # the ingesting process serves the metrics endpoint
    extensions[QUERY_ID] = child_query
    return {"extensions": extensions, "service": {"extensions": list(extensions), "telemetry": telemetry}}


def _spanmetrics_filling(tree: dict[str, Any], storage: str) -> dict[str, Any] | None:
    """The options of the spanmetrics processor (in a pipeline) that keeps its metrics in ``storage``."""
    for pid in _in_pipelines(tree, "spanmetrics"):
        options = (tree.get("processors") or {}).get(pid) or {}
        if options.get("storage") == storage:
            return copy.deepcopy(dict(options))
    return None


def _in_pipelines(tree: dict[str, Any], processor_type: str) -> list[str]:
    """Ids of the processors of ``processor_type`` that some pipeline runs."""
    pipelines = ((tree.get("service") or {}).get("pipelines") or {}).values()
    used = [pid for pipeline in pipelines for pid in (pipeline or {}).get("processors") or []]
    return [pid for pid in dict.fromkeys(used) if str(pid).split("/")[0] == processor_type]
