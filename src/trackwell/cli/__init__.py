"""The `trackwell` command. Subcommands live in their own modules and load their heavy
dependencies only when run."""

from __future__ import annotations

import importlib
from functools import cache
from importlib.util import find_spec

import click

# name -> "module:attribute"; imported lazily so `trackwell --help` stays fast.
_COMMANDS = {
    "server": "trackwell.cli.server:server",
    "sync": "trackwell.cli.sync:sync",
    "demo": "trackwell.cli.demo:demo",
    "login": "trackwell.cli.auth:login",
    "logout": "trackwell.cli.auth:logout",
    "whoami": "trackwell.cli.auth:whoami",
    "open": "trackwell.cli.auth:open_ui",
    "users": "trackwell.cli.admin:users",
    "teams": "trackwell.cli.admin:teams",
    "keys": "trackwell.cli.admin:keys",
    "offline": "trackwell.cli.mode:offline",
    "online": "trackwell.cli.mode:online",
    "disabled": "trackwell.cli.mode:disabled",
    "status": "trackwell.cli.mode:status",
    "automations": "trackwell.cli.automations:automations",
    "integrations": "trackwell.cli.automations:integrations",
    "sweep": "trackwell.cli.sweep:sweep",
    "agent": "trackwell.cli.sweep:agent",
    "gc": "trackwell.cli.gc:gc",
}

# Commands that run a server: a base install (the client) lacks what they import.
_NEEDS_SERVER = frozenset({"server", "demo"})

# Top-level modules of the `server` extra's packages (pyproject.toml), checked before a server
# command parses its options, so a client-only install gets one line instead of a traceback.
SERVER_EXTRA_MODULES = ("fastapi", "uvicorn", "sqlalchemy", "alembic", "duckdb", "numpy", "psycopg",
                        "re2", "platformdirs", "pandas", "optuna", "pydantic")


def server_extra_message(command: str, missing: list[str]) -> str:
    """The one line a client-only install gets; names the missing modules of a partial install."""
    message = f"trackwell {command} needs the server extra: pip install 'trackwell[server]'"
    if 0 < len(missing) < len(SERVER_EXTRA_MODULES):
        message += f" (not installed: {', '.join(missing)})"
    return message


@cache
def _missing_server_modules() -> list[str]:
    return [name for name in SERVER_EXTRA_MODULES if find_spec(name) is None]


def _explains_missing_extra(command: click.Command, missing: list[str]) -> click.Command:
    """Stands in for `command`: any arguments (``--help`` too) get the install line, exit 1."""
    message = server_extra_message(command.name or "", missing)

    def explain() -> None:
        raise click.ClickException(message)

    return click.Command(
        command.name, callback=explain, add_help_option=False,
        help=f"{command.help or ''}\n\nNeeds the server extra: pip install 'trackwell[server]'.",
        short_help=f"{command.get_short_help_str(30)} (needs the server extra)",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True})


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = _COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        if name in _NEEDS_SERVER and (missing := _missing_server_modules()):
            return _explains_missing_extra(command, missing)
        return command


@click.group(cls=_LazyGroup)
@click.version_option(package_name="trackwell")
def main() -> None:
    """trackwell: a self-hosted experiment tracker."""
