"""`trackwell demo`: start a server on the embedded default, log a real run to it, show it."""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import click

from trackwell.cli._ports import client_url, free_port, port_free
from trackwell.cli._rest import DEFAULT_HOST


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException(f"trackwell server exited with code {process.returncode}; see its output above")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise click.ClickException(f"trackwell server at {url} did not answer /api/v1/health within {timeout:.0f}s")


def _train(base_url: str, workdir: Path) -> tuple[str, str, str]:
    """A small, real training-shaped loop: noisy decaying loss, rising accuracy."""
    import trackwell

    rng = random.Random(0)
    epochs, lr = 5, 3e-4
    config = {"lr": lr, "batch_size": 64, "epochs": epochs, "optimizer": {"name": "adam", "beta1": 0.9}}
    os.environ["TRACKWELL_BASE_URL"] = base_url
    run = trackwell.init(project="demo", config=config, dir=str(workdir), tags=["demo"])
    run.define_metric("val/acc", summary="max")
    steps_per_epoch = 200
    for epoch in range(epochs):
        for i in range(steps_per_epoch):
            step = epoch * steps_per_epoch + i
            loss = 2.5 * math.exp(-step / 300) + 0.05 * rng.random()
            run.log({"train/loss": loss, "train/lr": lr, "epoch": epoch})
        acc = 1 - 0.5 * math.exp(-epoch) - 0.02 * rng.random()
        run.log({"val/acc": acc}, commit=False)
        print(f"epoch {epoch}: val/acc={acc:.3f}")
    run.summary["note"] = "logged by `trackwell demo`"
    entity, project, run_id = run.entity, run.project, run.id
    run.finish()
    return entity, project, run_id


def _sign_in(url: str, page: str) -> str:
    from trackwell.cli.auth import sign_in_link
    from trackwell.transport import Client

    with Client(url, max_attempts=1) as client:
        return sign_in_link(client, page)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, help="Uses a free port if this one is taken.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Server data directory (default: the user data dir).")
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="Keep the server running after the demo run (Ctrl-C to stop).")
def demo(host: str, port: int, data_dir: Path | None, serve: bool) -> None:
    """Start `trackwell server`, log a demo run to it, and print where to find it."""
    asked = port
    if not port_free(host, port):
        port = free_port(host)
    url = client_url(host, port)
    # scripts and the CLI go to DEFAULT_HOST unless told: say how when this server is elsewhere
    export = None if url == DEFAULT_HOST else f"export TRACKWELL_BASE_URL={url}"
    if port != asked:
        click.secho(f"port {asked} on {host} is taken: this demo's server uses {url} instead", fg="yellow", bold=True)
    if export:
        click.echo(f"for your own scripts and `trackwell` commands to use this server, run:\n    {export}")
    cmd = [sys.executable, "-m", "trackwell", "server", "--host", host, "--port", str(port),
           "--log-level", "warning"]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    click.echo(f"starting: {' '.join(cmd[2:])}")
    server = subprocess.Popen(cmd)
    try:
        _wait_healthy(url, server)
        workdir = Path.cwd()
        entity, project, run_id = _train(url, workdir)

        from trackwell.api import Api

        api_run = Api(base_url=url).run(f"{entity}/{project}/{run_id}")
        rows = list(api_run.scan_history(keys=["train/loss"]))
        click.echo("")
        click.secho(f"run {api_run.name} ({run_id}) is {api_run.state}", bold=True)
        click.echo(f"  API:       {url}/api/v1/runs/{entity}/{project}/{run_id}")
        click.echo(f"  history:   {url}/api/v1/runs/{entity}/{project}/{run_id}/history?keys=train/loss")
        click.echo(f"  rows of train/loss on the server: {len(rows)}")
        summary = {k: api_run.summary[k] for k in ("train/loss", "val/acc", "note") if k in api_run.summary}
        click.echo(f"  summary:   {summary}")
        click.echo(f"  API docs:  {url}/docs")
        click.echo(f"  web UI:    {url}/{entity}/{project}/runs/{run_id}")
        if export:
            click.echo(f"  scripts:   {export}   (the default, {DEFAULT_HOST}, is not this server)")
        click.echo(f"  sign in:   {_sign_in(url, f'/{entity}/{project}/runs/{run_id}')}")
        click.echo("             (works once, for 2 minutes; later: `trackwell open`, or the key in your "
                   "credentials file)")
        if serve:
            click.echo("\nserver is running; press Ctrl-C to stop")
            server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
