"""`trackwell sweep config.yaml` (create; prints the id and the agent command), `trackwell sweep
--status|--pause|--resume|--stop|--cancel SWEEP_ID`, and `trackwell agent SWEEP_ID`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import click

from trackwell.cli._rest import console, host_option, json_option, print_json, table

_ACTIONS = ("pause", "resume", "stop", "cancel")


@contextlib.contextmanager
def _client(host: str) -> Iterator[Any]:
    from trackwell.errors import Error
    from trackwell.sdk.agent import SweepClient, SweepError

    client = SweepClient(host)
    try:
        yield client
    except (SweepError, Error, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        client.close()


@click.command()
@click.argument("config_or_id")
@click.option("--project", default=None, help="Project of the sweep (default: the config's, $TRACKWELL_PROJECT, "
                                              "else 'uncategorized').")
@click.option("--entity", default=None, help="Entity of the sweep (default: the config's, $TRACKWELL_ENTITY, "
                                             "else your login's).")
@click.option("--prior-run", "prior_runs", multiple=True, metavar="RUN_ID",
              help="An existing run of the project to seed the search with (repeatable).")
@click.option("--pause", "action", flag_value="pause", help="Pause SWEEP_ID: agents get no new runs.")
@click.option("--resume", "action", flag_value="resume", help="Resume a paused SWEEP_ID.")
@click.option("--stop", "action", flag_value="stop", help="Finish SWEEP_ID: no new runs; running ones finish.")
@click.option("--cancel", "action", flag_value="cancel", help="Cancel SWEEP_ID: running runs are killed.")
@click.option("--status", "action", flag_value="status", help="Show SWEEP_ID's progress and runs.")
@host_option
@json_option
def sweep(config_or_id: str, project: str | None, entity: str | None, prior_runs: tuple[str, ...],
          action: str | None, host: str, as_json: bool) -> None:
    """Create a sweep from CONFIG (a W&B-style YAML), or act on SWEEP_ID with a flag."""
    with _client(host) as client:
        if action is None:
            from trackwell.sdk.agent import load_config

            config = load_config(config_or_id)
            path = client.path("x", project or config.get("project"), entity or config.get("entity"))
            created = client.create(path.entity, path.project, config, list(prior_runs))
            if as_json:
                print_json(created)
                return
            out = console()
            full = f"{created['entity']}/{created['project']}/{created['id']}"
            out.print(f"Created sweep with ID: [bold]{created['id']}[/] ({created['method']}, "
                      f"{created['expected_run_count'] or 'unbounded'} runs expected)")
            out.print(f"Run sweep agent with: [bold]trackwell agent {full}[/]")
            return
        path = client.path(config_or_id, project, entity)
        answer = client.get(path) if action == "status" else client.control(path, action)
        if as_json:
            print_json({**answer, "runs": client.runs(path)} if action == "status" else answer)
            return
        _show(answer, client.runs(path) if action == "status" else None)


def _show(sweep: dict[str, Any], runs: list[dict[str, Any]] | None) -> None:
    from rich.progress import BarColumn, Progress, TextColumn

    out = console()
    reason = f" ({sweep['reason']})" if sweep.get("reason") else ""
    out.print(f"sweep {sweep['entity']}/{sweep['project']}/{sweep['id']}: [bold]{sweep['state']}[/]{reason}")
    if runs is None:
        return
    ended = sum(1 for r in runs if r["state"] not in ("pending", "running", "preempting", "preempted")
                and r["status"] != "prior")
    total = sweep.get("expected_run_count")
    with Progress(TextColumn("runs"), BarColumn(), TextColumn("{task.completed}/{task.fields[shown]} ended"),
                  console=out, transient=False) as progress:
        progress.add_task("runs", total=total or max(ended, 1), completed=ended, shown=total or "?")
    if sweep.get("best_run"):
        best = sweep["best_run"]
        out.print(f"best run: {best['id']} ({runs[0]['metric'] if runs else 'metric'} = {best['value']:g})")
    table(None, runs, ["id", "state", "params", "value", "resumes", "stop_reason"], "no runs yet")


@click.command()
@click.argument("sweep_id")
@click.option("--count", type=click.IntRange(min=1), default=None, help="Run at most this many runs, then quit.")
@click.option("--project", default=None, help="Project of SWEEP_ID when it is a bare id.")
@click.option("--entity", default=None, help="Entity of SWEEP_ID when it is a bare id.")
@click.option("--forward-signals", "-f", is_flag=True,
              help="Forward every catchable signal the agent gets (SIGUSR1, SIGTERM, ...) to the running run.")
@click.option("--term-timeout", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Seconds a run gets after SIGTERM when the agent shuts down, before SIGKILL.")
@click.option("--max-consecutive-failed-runs", type=click.IntRange(min=1), default=None,
              help="Quit after this many runs in a row failed.")
@host_option
def agent(sweep_id: str, count: int | None, project: str | None, entity: str | None, forward_signals: bool,
          term_timeout: float, max_consecutive_failed_runs: int | None, host: str) -> None:
    """Run SWEEP_ID's runs: its command as a child process per run, one at a time."""
    from trackwell.sdk.agent._process import ProcessAgent

    with _client(host) as client:
        path = client.path(sweep_id, project, entity)
        runner = ProcessAgent(client, path, count=count, forward_signals=forward_signals, term_timeout=term_timeout,
                              max_consecutive_failures=max_consecutive_failed_runs)
        runner.run()
    if runner.gave_up:
        raise SystemExit(1)  # its reason is printed
