"""The `trackwell` command. Subcommands live in their own modules and load their heavy
dependencies only when run."""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute"; imported lazily so `trackwell --help` stays fast.
_COMMANDS = {
    "server": "trackwell.cli.server:server",
    "sync": "trackwell.cli.sync:sync",
    "demo": "trackwell.cli.demo:demo",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = _COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


@click.group(cls=_LazyGroup)
@click.version_option(package_name="trackwell")
def main() -> None:
    """trackwell: a self-hosted experiment tracker."""
