"""The ``hotrod`` command: the table of its subcommands, one module each.

Subcommands are imported only when run, so that ``hotrod --help`` stays fast
and so that one part's imports (Locust's gevent patching above all) never
reach another part's process.
"""

from __future__ import annotations

import importlib

import click

# name → "module:attribute" of a click command
COMMANDS: dict[str, str] = {
    "backend": "backend.cli:backend",
    "all": "hotrod.cli.all_in_one:all_in_one",
    "frontend": "hotrod.cli.services:frontend",
    "customer": "hotrod.cli.services:customer",
    "driver": "hotrod.cli.services:driver",
    "route": "hotrod.cli.services:route",
    "doctor": "hotrod.cli.doctor:doctor",
    "load": "loadgen.cli:load",
    "bench": "loadgen.bench.cli:bench",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module_name), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """HotROD: a tracing demo, its trace backend, and load and benchmark tools."""
