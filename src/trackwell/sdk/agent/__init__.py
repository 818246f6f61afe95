"""The client side of sweeps: ``trackwell.sweep(config)`` creates one on the server and returns
its id; ``trackwell.agent(sweep_id, function=...)`` runs its runs in this process, and
`trackwell agent SWEEP_ID` (``ProcessAgent``) runs the sweep's command as child processes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trackwell.sdk.agent._client import SweepClient, SweepError, SweepPath, load_config


def sweep(sweep: dict[str, Any] | str, project: str | None = None, entity: str | None = None,
          prior_runs: list[str] | None = None, base_url: str | None = None) -> str:
    """Create a sweep from a config dict or a YAML file; returns its id. ``prior_runs`` (run ids
    of the same project) seed the search: a grid skips what they cover, bayes learns from them."""
    import sys

    config = load_config(sweep)
    client = SweepClient(base_url)
    try:
        project = project or config.get("project")
        path = client.path("x", project, entity or config.get("entity"))
        created = client.create(path.entity, path.project, config, list(prior_runs or ()))
    finally:
        client.close()
    full = f"{created['entity']}/{created['project']}/{created['id']}"
    print(f"trackwell: created sweep {full}; run agents with `trackwell agent {full}`", file=sys.stderr)
    return str(created["id"])


def agent(sweep_id: str, function: Callable[[], Any] | None = None, count: int | None = None,
          project: str | None = None, entity: str | None = None, base_url: str | None = None) -> int:
    """Run the sweep's runs: ``function`` in this process for each (its ``trackwell.init()``
    gets the run's parameters in ``run.config``), or without one the sweep's ``command`` as child
    processes. Stops after ``count`` runs or when the sweep has none left; returns how many ran."""
    from trackwell.sdk.agent._function import FunctionAgent
    from trackwell.sdk.agent._process import ProcessAgent

    client = SweepClient(base_url)
    try:
        path = client.path(sweep_id, project, entity)
        if function is None:
            return ProcessAgent(client, path, count=count).run()
        return FunctionAgent(client, path, function, count).run()
    finally:
        client.close()


__all__ = ["SweepClient", "SweepError", "SweepPath", "agent", "sweep"]
