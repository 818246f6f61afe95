"""`trackwell sync`: upload journals of offline, interrupted or crashed runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from trackwell.sdk.journal import Loss
    from trackwell.sdk.sinks import Sink
    from trackwell.sdk.sync import JournalState


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would be uploaded; send nothing.")
@click.option("--include-synced", is_flag=True,
              help="Also check runs already marked synced (the server fills any gap).")
@click.option("--retry-dead-letters", "retry_dead", is_flag=True,
              help="Also resend records the server refused before (kept in run-<id>.twj.dead), "
                   "e.g. after raising the server's --max-request-bytes.")
@click.option("--base-url", envvar="TRACKWELL_BASE_URL", default=None,
              help="Server URL (default: $TRACKWELL_BASE_URL or http://127.0.0.1:8080).")
def sync(paths: tuple[Path, ...], dry_run: bool, include_synced: bool, retry_dead: bool,
         base_url: str | None) -> None:
    """Upload run journals (run-*.twj) found under PATHS (default: ./trackwell).

    Safe to repeat: the server keeps what it already applied, so nothing is sent twice
    (dead letters included: they are resent under their own writer with their own ack).
    """
    from rich.console import Console

    from trackwell.sdk.artifacts import find_pending
    from trackwell.sdk.sync import find_journals, iter_states

    out = Console(stderr=False, highlight=False)
    roots = list(paths) or [Path("trackwell")]
    if not paths and not roots[0].is_dir():
        out.print("No ./trackwell directory here: pass the run directories or journals to sync.")
        return
    states: list[JournalState] = []
    failed = 0
    for journal, state in iter_states(find_journals(roots)):
        if isinstance(state, Exception):
            out.print(f"[red]error[/]    {journal}: {state}")
            failed += 1
        elif (state.synced and not include_synced and not (retry_dead and state.dead_pending)
              and not state.losses):  # a live run may have delivered around a hole: report it
            out.print(f"skipped  {state.label}: already synced ({state.run_dir})")
        else:
            states.append(state)
    artifacts = find_pending(roots)  # logged by runs, not on the server yet: after the journals
    if not states and not artifacts:
        out.print("Nothing to sync." if not failed else "Nothing else to sync.")
        raise SystemExit(1 if failed else 0)
    if dry_run:
        for path in artifacts:
            out.print(f"would upload artifact staged in {path}")
        for s in states:
            note = "" if s.has_exit else (" (still running)" if s.alive else " (no exit record: crashed)")
            out.print(f"would sync {s.label}: {s.pending} of {s.last_seq} records{note} ({s.run_dir})")
            for line in _damage(s, s.losses, delivered=False):
                out.print(f"  {line}")
            if s.dead_pending:
                what = "would retry" if retry_dead else "not retried without --retry-dead-letters:"
                out.print(f"  {what} {s.dead_pending} dead-lettered records ({s.path.name}.dead)")
        raise SystemExit(1 if failed or any(s.losses for s in states) else 0)  # as a real sync would

    failed += _sync_journals(out, states, base_url, include_synced, retry_dead) if states else 0
    failed += _sync_artifacts(out, artifacts, base_url)
    if failed:
        raise SystemExit(1)


def _sync_artifacts(out: Any, staged: list[Path], base_url: str | None) -> int:
    """Log each staged artifact (its run's journal went first); returns how many failed."""
    from trackwell.sdk.artifacts import deliver_pending
    from trackwell.transport import Client

    failed = 0
    with Client(base_url) as client:
        for path in staged:
            try:
                found = deliver_pending(client, path)
            except Exception as exc:  # noqa: BLE001 - report per artifact, continue with the others
                failed += 1
                out.print(f"[red]failed[/]   artifact staged in {path}: {exc}; it stays there, run sync again")
                continue
            out.print(f"[green]synced[/]   artifact {found['entity']}/{found['project']}/{found['name']}:"
                      f"{found['version']} ({found['file_count']} files{'' if found['created'] else ', unchanged'})")
    return failed


def _sync_journals(out: Any, states: list[JournalState], base_url: str | None, include_synced: bool,
                   retry_dead: bool) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from trackwell.sdk.sinks import HttpSink
    from trackwell.sdk.sync import sync_journal

    failed = 0
    with HttpSink.connect(base_url) as sink, Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=out) as progress:
        total = progress.add_task("records", total=sum(max(s.pending, 1 if include_synced else 0)
                                                        + (s.dead_pending if retry_dead else 0)
                                                        for s in states))
        for s in states:
            progress.update(total, description=s.label)
            try:
                outcome = sync_journal(s, sink, lambda n: progress.advance(total, n),
                                       recheck=include_synced)
            except Exception as exc:  # noqa: BLE001 - report per run, continue with the others
                failed += 1
                progress.console.print(f"[red]failed[/]   {s.label}: {exc}; the journal is "
                                       f"unchanged, run sync again once fixed ({s.run_dir})")
                continue
            r = outcome.result
            failed += _dead_letters(progress.console, s, sink, retry_dead, lambda n: progress.advance(total, n))
            for line in _damage(s, r.lost, delivered=not outcome.remaining):
                progress.console.print(line)
            if outcome.marked_synced:
                progress.console.print(f"[green]synced[/]   {s.label}: {r.sent} records sent, "
                                       f"{r.acked} acknowledged ({s.run_dir})")
            elif outcome.remaining:
                failed += 1
                progress.console.print(f"[red]partial[/]  {s.label}: {outcome.remaining} records "
                                       f"not acknowledged ({s.run_dir})")
            elif r.lost:
                failed += 1  # every sync says so again: the journal is never marked synced
            else:
                progress.console.print(f"[yellow]uploaded[/] {s.label}: {r.sent} records sent; the "
                                       f"run is still being written, not marked synced ({s.run_dir})")
    return failed


def _damage(s: JournalState, losses: list[Loss], delivered: bool) -> list[str]:
    """What damage on disk did to a journal, one line each (records lost, a header recovered)."""
    lines = [f"[red]damaged[/]  {loss.describe(s.label)}"
             + ("; the rest were delivered" if delivered else "") + f" ({s.path})" for loss in losses]
    if s.note:
        lines.append(f"[yellow]repaired[/] {s.label}: {s.note} ({s.path})")
    elif s.skipped and not losses:
        spans = ", ".join(f"{a}-{b}" for a, b in s.skipped)
        lines.append(f"[yellow]repaired[/] {s.label}: read past damaged bytes {spans}; no records "
                     f"were lost ({s.path})")
    return lines


def _dead_letters(out: Any, s: JournalState, sink: Sink, retry: bool, advance: Callable[[int], None]) -> int:
    """Retry (or point at) a journal's dead letters; returns 1 if some are still not delivered."""
    from trackwell.sdk.deadletter import DeadLetters
    from trackwell.sdk.sync import inspect, retry_dead

    state = inspect(s.path)  # delivery may have dead-lettered records just now
    if not state.dead_pending:
        return 0
    dead_file = DeadLetters(s.path).path
    if not retry:
        out.print(f"[yellow]refused[/]  {s.label}: {state.dead_pending} records the server refused are "
                  f"kept in {dead_file}; fix the cause, then `trackwell sync --retry-dead-letters`")
        return 1
    try:
        r = retry_dead(state, sink, advance)
    except Exception as exc:  # noqa: BLE001 - report per run, continue with the others
        out.print(f"[red]failed[/]   {s.label}: retrying dead letters: {exc} ({dead_file})")
        return 1
    if r.lost:
        lost = "1 dead letter was" if len(r.lost) == 1 else f"{len(r.lost)} dead letters were"
        out.print(f"[red]damaged[/]  {s.label}: {lost} lost to corruption in {dead_file}; the rest "
                  "were retried")
    again = inspect(s.path).dead_pending
    if again:
        out.print(f"[red]refused[/]  {s.label}: {r.sent - r.dead_lettered} dead letters delivered, "
                  f"{again} refused again and kept in {dead_file}")
    if again or r.lost:
        return 1
    out.print(f"[green]retried[/]  {s.label}: {r.sent} dead letters delivered ({dead_file})")
    return 0
