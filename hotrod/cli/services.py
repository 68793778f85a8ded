"""``hotrod frontend|customer|driver|route``: one service per process, configured by flags and env (compose)."""

from __future__ import annotations

import click

from hotrod import logs, stack
from hotrod.cli.signals import stop_signal
from hotrod.knobs import Knobs
from hotrod.settings import Settings, settings_options
from hotrod.telemetry import Telemetry


def announce(services: stack.Stack) -> None:
    """Say where each service listens: the ports it got when asked for port 0 (tests read these lines)."""
    for name, server in services.servers.items():
        click.echo(f"hotrod {name}: listening on {server.url}", err=True)


def run_services(names: list[str], settings: Settings) -> None:
    logs.configure()
    with stop_signal() as stop:
        telemetry = Telemetry(names)
        try:
            services = stack.start(names, settings, Knobs.from_settings(settings), telemetry)
        except Exception as exc:
            telemetry.shutdown()
            raise click.ClickException(f"cannot start {', '.join(names)}: {exc}") from exc
        announce(services)
        while not stop.wait(1.0):
            pass
        click.echo("hotrod: stopping", err=True)
        services.close()
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
