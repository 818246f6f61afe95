"""`trackwell gc`: free the blobs (run files, artifact files) nothing references any more, on the
server at --host (a server admin's command; the server does the work, in its own process)."""

from __future__ import annotations

import click

from trackwell.cli._rest import call, connect, console, host_option, json_option, print_json


@click.command()
@host_option
@json_option
@click.option("--dry-run", is_flag=True, help="Only report what would be freed.")
@click.option("--grace", default=3600.0, show_default=True, type=click.FloatRange(min=0), metavar="SECONDS",
              help="Spare blobs uploaded or asked about this recently: a client may be about to reference them.")
def gc(host: str, as_json: bool, dry_run: bool, grace: float) -> None:
    """Delete stored blobs that no run file or artifact references, and report the bytes freed."""
    with connect(host) as client:
        answer = call(client, "POST", "/admin/gc", {"dry_run": dry_run, "grace_seconds": grace})
    if as_json:
        return print_json(answer)
    verb = "would free" if dry_run else "freed"
    console().print(f"{verb} {answer['blobs']} blobs, {_size(answer['bytes'])} ({answer['bytes']} bytes)")
    if answer.get("uploads"):
        console().print(f"aborted {answer['uploads']} abandoned uploads, {_size(answer['upload_bytes'])}")


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{n} B"
        value /= 1024
    return f"{n} B"
