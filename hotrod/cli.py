"""The ``hotrod`` command.

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
    "all": "hotrod.allinone:all_in_one",
    "frontend": "hotrod.commands:frontend",
    "customer": "hotrod.commands:customer",
    "driver": "hotrod.commands:driver",
    "route": "hotrod.commands:route",
    "doctor": "hotrod.doctor:doctor",
    "load": "loadgen.cli:load",
    "bench": "loadgen.cli:bench",
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
