"""``hotrod frontend|customer|driver|route``: one service per process, configured by flags and env (compose)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click

from hotrod import logs, runner
from hotrod.knobs import Knobs
from hotrod.settings import Settings, settings_options
from hotrod.telemetry import Telemetry


@contextmanager
def stop_signal() -> Iterator[threading.Event]:
    """An event set by SIGTERM or Ctrl-C, so servers can be stopped in order rather than killed."""
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run_services(names: list[str], settings: Settings) -> None:
    logs.configure()
    with stop_signal() as stop:
        telemetry = Telemetry(names)
        try:
            stack = runner.start(names, settings, Knobs.from_settings(settings), telemetry)
        except Exception as exc:
            telemetry.shutdown()
            raise click.ClickException(f"cannot start {', '.join(names)}: {exc}") from exc
        for name, server in stack.servers.items():
            click.echo(f"hotrod {name}: listening on {server.url}", err=True)
        while not stop.wait(1.0):
            pass
        click.echo("hotrod: stopping", err=True)
        stack.close()
        telemetry.shutdown()


def _service_command(name: str) -> click.Command:
    @settings_options
    def command(settings: Settings) -> None:
        run_services([name], settings)

    command.__doc__ = f"Run the {name} service alone (ports, URLs and knobs from flags or HOTROD_* env)."
    return click.command(name=name)(command)


frontend = _service_command("frontend")
customer = _service_command("customer")
driver = _service_command("driver")
route = _service_command("route")
