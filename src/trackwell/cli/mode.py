"""`trackwell offline|online|disabled` (W&B's `wandb offline` etc.): the mode of runs started in
this directory, kept in ``./trackwell/settings`` (``[default] mode = ...``), which Settings read
after the environment variables; and `trackwell status`: what a run started here would use."""

from __future__ import annotations

import configparser
import os
from pathlib import Path

import click

from trackwell.sdk.settings import Settings, settings_file_path


def _set_mode(mode: str) -> Path:
    path = Path(settings_file_path(None))
    parser = configparser.ConfigParser()
    if path.is_file():
        parser.read(path, encoding="utf-8")
    if not parser.has_section("default"):
        parser.add_section("default")
    parser["default"]["mode"] = mode
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        parser.write(f)
    os.replace(tmp, path)
    return path


def _mode_command(mode: str, what: str) -> click.Command:
    def run() -> None:
        path = _set_mode(mode)
        click.echo(f"runs started in {path.parent.parent} are {what} (mode = {mode} in {path}); "
                   "TRACKWELL_MODE / WANDB_MODE and init(mode=...) still override it")
        for var in ("TRACKWELL_MODE", "WANDB_MODE"):
            if os.environ.get(var):
                click.echo(f"note: {var}={os.environ[var]} is set in this shell and wins over the file")
                break

    return click.Command(mode, callback=run, help=f"Runs started in this directory are {what}.")


offline = _mode_command("offline", "journaled on disk only (upload them with `trackwell sync`)")
online = _mode_command("online", "sent to the server as they log")
disabled = _mode_command("disabled", "not recorded at all (trackwell calls do nothing)")


@click.command()
def status() -> None:
    """Show the settings a run started here would use, and where they come from."""
    from trackwell import _credentials

    s = Settings().resolve()
    path = settings_file_path(None)
    click.echo(f"mode:        {s.mode}")
    click.echo(f"server:      {s.base_url}")
    click.echo(f"entity:      {s.entity}")
    click.echo(f"project:     {s.project}")
    stored = _credentials.load(str(s.base_url))
    key = ("TRACKWELL_API_KEY" if os.environ.get("TRACKWELL_API_KEY") else
           f"the login in {_credentials.path()}" if stored else
           "WANDB_API_KEY" if s.api_key else "none (run `trackwell login`)")
    click.echo(f"api key:     {key}")
    click.echo(f"settings:    {path}" + ("" if os.path.isfile(path) else " (none)"))
    unsynced = _unsynced(Path(path).parent)
    if unsynced:
        click.echo(f"not synced:  {len(unsynced)} journal(s) under {Path(path).parent}; "
                   f"`trackwell sync {Path(path).parent}` uploads them")


def _unsynced(top: Path) -> list[Path]:
    from trackwell.sdk.journal import JOURNAL_SUFFIX, synced_path

    if not top.is_dir():
        return []
    return [j for j in top.glob(f"*/run-*{JOURNAL_SUFFIX}")
            if j.parent.name != "latest-run" and not synced_path(j).exists()]  # latest-run: a link to one
