"""``hotrod backend``: run the trace backend (collector, storage, query API) until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import re
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import click
from click.decorators import FC

from backend.config import DEFAULT_SOURCE, apply_overrides, from_mapping, read, set_path
from backend.core.binding import ConfigError
from backend.core.component import StartError
from backend.core.ports import ENDPOINTS, PORT_HELP
from backend.core.process_tuning import tune_process

STORAGE_URLS = {
    "sqlite": "sqlite:///data/traces.db",
    "postgres": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
}
POSTGRES_WORKERS = 4
# ClickHouse writes a part per insert (a few ms of CPU each, then merged again) and an attribute search skips
# little in small unmerged parts: under load the exporter's deliveries grow up to this (benchmarks/clickhouse_insert.py)
CLICKHOUSE_BATCH_SPANS = 65_536
_ENV = "HOTROD_BACKEND_"
_HOST_PORT = re.compile(r"^[^/]*:\d+$")  # not a URL: exporters' remote endpoints are never rebound
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

EPILOG = f"""\b
Configuration, highest precedence first: --set, the other flags, their
environment variables, the --config file (or the built-in all-in-one
default: OTLP on 4317/4318, Jaeger on 6831/udp, 6832/udp, 14268 and 14250,
Zipkin on 9411, SQLite at data/traces.db, query API on 16686, health on
13133, metrics on 8888, remote sampling on 5778 and 5779).
\b
Environment variables: {_ENV}CONFIG, {_ENV}STORAGE, {_ENV}STORAGE_URL,
{_ENV}BIND, {_ENV}QUERY_PROCESS, {_ENV}LOG_LEVEL, and {_ENV}<FLAG>_PORT for each port flag
(e.g. {_ENV}OTLP_GRPC_PORT, {_ENV}JAEGER_COMPACT_PORT).
\b
Examples:
  hotrod backend --storage memory
  hotrod backend --storage clickhouse       (needs pip install 'hotrod-py[clickhouse]')
  hotrod backend --storage postgres --storage-url postgresql+psycopg://u@db/traces
  hotrod backend --config backend.yaml --set exporters.jaeger_storage_exporter.sending_queue.queue_size=50000
Exit status: 2 for a configuration error, 1 when a server cannot start.
"""


def _port_option(name: str, what: str) -> Callable[[FC], FC]:
    env = _ENV + name.upper().replace("-", "_") + "_PORT"
    return click.option(f"--{name}-port", type=click.IntRange(0, 65535), envvar=env, show_envvar=True, help=what)


def _port_options(command: Any) -> Any:
    """One ``--NAME-port`` option per entry of ``ENDPOINTS``, in its order."""
    for name in reversed(ENDPOINTS):
        command = _port_option(name, PORT_HELP[name])(command)
    return command


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar=_ENV + "CONFIG", show_envvar=True,
              help="YAML config in Jaeger v2's shape (default: the built-in all-in-one config).")  # fmt: skip
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override one config value (a YAML value), e.g. receivers.otlp.protocols.http.endpoint=:4318. "
              "Repeatable.")  # fmt: skip
@click.option("--storage", type=click.Choice(["memory", "sqlite", "postgres", "redis", "clickhouse"]),
              envvar=_ENV + "STORAGE", show_envvar=True,
              help="Replace every jaeger_storage backend with this kind (postgres also gives "
              "each storage exporter 4 sending_queue consumers, as PostgreSQL takes parallel writes).")  # fmt: skip
@click.option("--storage-url", envvar=_ENV + "STORAGE_URL", show_envvar=True,
              help="SQLAlchemy URL for sqlite/postgres (default sqlite:///data/traces.db, or "
              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres); redis://host:port/db or "
              "redis+cluster://host:port[,host:port...] (a Redis Cluster) for redis (default: an embedded Redis "
              "server); http://user:password@host:8123 for clickhouse (default: embedded chDB in "
              "data/clickhouse).")  # fmt: skip
@click.option("--bind", "bind_host", metavar="HOST", envvar=_ENV + "BIND", show_envvar=True,
              help="Host of every server endpoint: OTLP, query, health, metrics and any other receiver or "
              "extension endpoint in the config (0.0.0.0 in containers).")  # fmt: skip
@click.option("--query-process", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True,
              envvar=_ENV + "QUERY_PROCESS", show_envvar=True,
              help="Serve the query API and UI from a process of their own, so searches and ingest do not "
              "share one interpreter. auto: when every storage it reads can be opened by a second "
              "process (SQLite file, PostgreSQL, Redis or ClickHouse by URL; not memory, nor embedded "
              "Redis or chDB).")  # fmt: skip
@_port_options
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
              envvar=_ENV + "LOG_LEVEL", show_envvar=True, help="Default: service.telemetry.logs.level.")  # fmt: skip
def backend(config_path: str | None, overrides: tuple[str, ...], storage: str | None, storage_url: str | None,
            bind_host: str | None, query_process: str, log_level: str | None, **ports: int | None) -> None:  # fmt: skip
    """Run the trace backend: OTLP receivers, batching, storage, the Jaeger query API and UI."""
    from backend.query_process.build import build_service

    try:
        tree = read(config_path)
        apply_flags(tree, storage, storage_url, bind_host, ports)
        apply_overrides(tree, overrides, config_path or DEFAULT_SOURCE)
        config = from_mapping(tree, config_path or DEFAULT_SOURCE)
        level = (log_level or config.telemetry.logs.level).upper()
        if log_level:  # the query process logs at the same level
            set_path(tree, "service.telemetry.logs.level", log_level.lower(), "--log-level")
        logging.basicConfig(level="WARNING" if level == "WARN" else level, format=LOG_FORMAT)
        service = build_service(tree, query_process, config_path or DEFAULT_SOURCE)
    except ConfigError as exc:
        _fail(2, str(exc) + _flag_hint(exc.where, storage_url))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    tune_process()
    try:
        service.start()
    except ConfigError as exc:
        _fail(2, str(exc) + _flag_hint(exc.where, storage_url))
    except StartError as exc:  # a port in use: which key, which address, why
        _fail(1, f"cannot start: {exc}{_flag_hint(exc.where, storage_url)}")
    except Exception as exc:  # a database that refuses: say so, no traceback
        _fail(1, f"cannot start: {exc}")
    click.echo("hotrod backend ready: " + ", ".join(f"{k} {v}" for k, v in service.endpoints.items()), err=True)
    while not stop.wait(1.0):
        pass
    click.echo("hotrod backend: stopping (draining queues)", err=True)
    service.shutdown()
    click.echo("hotrod backend: stopped", err=True)


def apply_flags(
    tree: dict[str, Any], storage: str | None, url: str | None, bind_host: str | None, ports: dict[str, int | None]
) -> None:
    """Turn the convenience flags into config changes."""
    if storage or url:
        backends = _get(tree, "extensions.jaeger_storage.backends")
        if not isinstance(backends, dict) or not backends:
            raise ConfigError("--storage", "the config has no extensions.jaeger_storage.backends to replace")
        if storage == "memory":
            if url:
                raise ConfigError("--storage-url", "the memory storage takes no URL")
            spec: dict[str, Any] = {"memory": {}}
        elif storage in ("redis", "clickhouse"):
            spec = {storage: {"url": url} if url else {}}
        else:
            spec = {"sql": {"url": url or STORAGE_URLS[storage or "sqlite"]}}
        for name in backends:
            backends[name] = spec
        if storage == "postgres":
            for pid, options in (tree.get("processors") or {}).items():
                if pid.split("/")[0] == "batch":
                    tree["processors"][pid] = {"workers": POSTGRES_WORKERS, **(options or {})}
            _storage_queues(tree, lambda queue: {"num_consumers": POSTGRES_WORKERS, **queue})
        if storage == "clickhouse":
            _storage_queues(
                tree, lambda queue: {**queue, "batch": {"max_size": CLICKHOUSE_BATCH_SPANS, **queue.get("batch", {})}}
            )
    for name, (path, default_port, needed) in ENDPOINTS.items():
        port = ports.get(name.replace("-", "_") + "_port")
        if port is None and bind_host is None:
            continue
        if needed and not _has(tree, needed):
            if port is not None:
                raise ConfigError(f"--{name}-port", f"the config has no {needed}")
            continue
        current = _get(tree, path)
        host, _, current_port = (current if isinstance(current, str) else "").rpartition(":")
        host = bind_host or host or "127.0.0.1"
        chosen = port if port is not None else int(current_port) if current_port.isdigit() else default_port
        set_path(tree, path, f"{host}:{chosen}", f"--{name}-port")
    if bind_host is not None:
        for section in ("receivers", "extensions"):
            _rebind(tree.get(section), bind_host)


def _storage_queues(tree: dict[str, Any], fill: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Every storage exporter's ``sending_queue`` with ``fill``'s defaults (what the config sets is kept)."""
    for eid, options in (tree.get("exporters") or {}).items():
        if eid.split("/")[0] == "jaeger_storage_exporter":
            tree["exporters"][eid] = {
                **(options or {}),
                "sending_queue": fill((options or {}).get("sending_queue") or {}),
            }


def _rebind(node: Any, host: str) -> None:
    """Every ``endpoint: host:port`` the config spells out (other receivers and extensions) gets ``host``."""
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "endpoint" and isinstance(value, str) and _HOST_PORT.match(value):
            node[key] = f"{host}:{value.rpartition(':')[2]}"
        else:
            _rebind(value, host)


def _has(tree: dict[str, Any], dotted: str) -> bool:
    """Whether the key exists, even with an empty value (``grpc:`` turns a protocol on)."""
    *parents, last = dotted.split(".")
    node = _get(tree, ".".join(parents))
    return isinstance(node, dict) and last in node


def _get(tree: dict[str, Any], dotted: str) -> Any:
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _flag_hint(where: str, storage_url: str | None) -> str:
    """The flag and variable that also set the key an error names: a port or URL given as a flag is found."""
    key = where.rpartition(": ")[2]
    for name, (path, _, _) in ENDPOINTS.items():
        if key == path:
            env = _ENV + name.upper().replace("-", "_") + "_PORT"
            return f" (set it with --{name}-port, {env} or --set {path}=HOST:PORT)"
    if storage_url and key.startswith("extensions.jaeger_storage.backends.") and key.endswith(".url"):
        return f" (the URL came from --storage-url or {_ENV}STORAGE_URL)"
    return ""


def _fail(code: int, message: str) -> None:
    click.echo(f"hotrod backend: error: {message}", err=True)
    sys.exit(code)
