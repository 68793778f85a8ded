"""``hotrod all``: the bundled backend and the four services in one process, then a self-check.

The query API and UI run in a child process of their own when the storage allows
(``--query-process``, ``backend.query_process``); everything else shares this process.

This is the one place in ``hotrod`` that imports ``backend``: the services still reach it only
over OTLP/HTTP, exactly as they would reach a real Jaeger.
"""

from __future__ import annotations

from typing import Any

import click

from backend.core.ports import ENDPOINTS, PORT_HELP
from hotrod import doctor, logs, stack
from hotrod.cli.services import announce
from hotrod.cli.signals import stop_signal
from hotrod.knobs import Knobs
from hotrod.settings import DEFAULT_TRACE_UI, SERVICES, Settings, settings_options
from hotrod.telemetry import Telemetry

QUERY_PROCESS_WAIT_S = 120.0


def _backend_overrides(settings: Settings, ports: dict[str, int]) -> list[str]:
    host = settings.bind
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return [
        *(f"{path}={host}:{ports[_port_key(name)]}" for name, (path, _, _) in ENDPOINTS.items()),
        f"extensions.jaeger_storage.backends.main.sql.url=sqlite:///{settings.data_dir / 'traces.db'}",
        f"extensions.file_storage.directory={settings.data_dir / 'queue'}",  # the persistent queue, beside the data
    ]


def _port_key(name: str) -> str:
    return name.replace("-", "_") + "_port"


def _port_options(command: Any) -> Any:
    """A ``--NAME-port`` option for every port of the backend's built-in config (``backend.core.ports``)."""
    for name, (_, default, _) in reversed(ENDPOINTS.items()):
        option = click.option(
            f"--{name}-port", _port_key(name), type=click.IntRange(0, 65535), default=default, show_default=True,
            help=PORT_HELP[name],
        )  # fmt: skip
        command = option(command)
    return command


def _endpoint(endpoints: dict[str, str], wanted: str, predicate: object) -> str:
    for name, address in endpoints.items():
        if predicate(name):  # type: ignore[operator]
            return address
    raise click.ClickException(f"the backend config has no {wanted} (its endpoints: {endpoints})")


def _loopback(address: str) -> str:
    host, _, port = address.rpartition(":")
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}"


@click.command(name="all")
@click.option(
    "--backend-config", type=click.Path(dir_okay=False, exists=True), help="Backend YAML instead of the built-in."
)
@_port_options
@click.option(
    "--backend-set",
    "backend_sets",
    multiple=True,
    metavar="KEY.PATH=VALUE",
    help="Override one value of the backend config, as `hotrod backend --set` does. Repeatable.",
)
@click.option(
    "--query-process",
    type=click.Choice(["auto", "on", "off"]),
    default="auto",
    show_default=True,
    help="Serve the trace UI and query API from a process of their own (as `hotrod backend --query-process`).",
)
@click.option("--skip-check", is_flag=True, help="Do not send the start-up dispatch.")
@settings_options
def all_in_one(
    settings: Settings,
    backend_config: str | None,
    backend_sets: tuple[str, ...],
    query_process: str,
    skip_check: bool,
    **ports: int,
) -> None:
    """Run the backend and all four services in this process, with embedded SQLite and Redis.

    The services sample with the backend's adaptive strategies (``OTEL_TRACES_SAMPLER=jaeger_remote``)
    unless OTEL_TRACES_SAMPLER says otherwise or the backend config serves no strategies.
    """
    from backend import config as backend_config_module
    from backend.core.binding import ConfigError
    from backend.query_process.build import build_service

    logs.configure()
    with stop_signal() as stop:
        try:
            overrides = [*([] if backend_config else _backend_overrides(settings, ports)), *backend_sets]
            tree = backend_config_module.read(backend_config)
            source = backend_config or backend_config_module.DEFAULT_SOURCE
            backend_config_module.apply_overrides(tree, overrides, source)
            backend = build_service(tree, query_process, source)
            backend.start()
        except ConfigError as exc:
            raise click.ClickException(f"backend config: {exc}") from exc
        except OSError as exc:
            raise click.ClickException(f"the backend cannot start: {exc}") from exc
        click.echo("hotrod backend ready: " + ", ".join(f"{k} {v}" for k, v in backend.endpoints.items()), err=True)
        otlp = _loopback(
            _endpoint(backend.endpoints, "OTLP/HTTP receiver", lambda n: n.startswith("otlp") and n.endswith("/http"))
        )
        query = _loopback(_endpoint(backend.endpoints, "jaeger_query extension", lambda n: n == "jaeger_query"))
        if settings.trace_ui_url == DEFAULT_TRACE_UI:
            settings.trace_ui_url = query
        sampling = backend.endpoints.get("remote_sampling")
        telemetry = Telemetry(SERVICES, endpoint=otlp, sampling_endpoint=_loopback(sampling) if sampling else None)
        try:
            services = stack.start(SERVICES, settings, Knobs.from_settings(settings), telemetry)
        except Exception as exc:
            telemetry.shutdown()
            backend.shutdown()
            raise click.ClickException(f"cannot start the services: {exc}") from exc
        announce(services)
        frontend = services.url("frontend")
        click.echo(f"HotROD page:  {frontend}", err=True)
        click.echo(f"Trace UI:     {settings.trace_ui_url}", err=True)
        _wait_for_query_process(backend.extensions().get("jaeger_query"))
        if not skip_check:
            _self_check(frontend, query, telemetry, settings.trace_ui_url)
        click.echo("hotrod all: ready (Ctrl-C to stop)", err=True)
        while not stop.wait(1.0):
            pass
        click.echo("hotrod all: stopping", err=True)
        services.close()
        telemetry.shutdown()
        backend.shutdown()
        click.echo("hotrod all: stopped", err=True)


def _wait_for_query_process(extension: object) -> None:
    """A query API in a process of its own may still be loading: "ready" waits for it, as for everything else.

    (The services started meanwhile.)  Else the self-check would wait on it, and the first dispatches
    would share the machine with its start-up.
    """
    from backend.query_process.supervisor import QueryProcess

    if isinstance(extension, QueryProcess) and not extension.wait_serving(QUERY_PROCESS_WAIT_S):
        click.echo(f"hotrod all: the query process is not serving after {QUERY_PROCESS_WAIT_S:g}s", err=True)


def _self_check(frontend: str, query: str, telemetry: Telemetry, trace_ui: str) -> None:
    try:
        result = doctor.check(frontend, query, flush=telemetry.force_flush, trace_ui=trace_ui)
    except doctor.CheckFailed as exc:
        click.echo(f"self-check PROBLEM: {exc}", err=True)
        return
    click.echo(
        f"self-check OK: trace {result.trace_id}, {result.span_count} spans from {', '.join(result.services)}: "
        f"{result.trace_url}",
        err=True,
    )
