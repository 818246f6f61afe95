"""``trackwell.init()`` and the module-level calls that act on the current run
(``trackwell.log``, ``finish``, ``define_metric``, ``mark_preempting``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from trackwell.sdk import _state
from trackwell.sdk._base import RunBase
from trackwell.sdk.disabled import DisabledRun
from trackwell.sdk.errors import UsageError, warn
from trackwell.sdk.run import Run
from trackwell.sdk.settings import Settings, as_settings


def init(project: str | None = None, entity: str | None = None, name: str | None = None,
         id: str | None = None, group: str | None = None, job_type: str | None = None,
         tags: Any = None, notes: str | None = None, config: Any = None, dir: str | os.PathLike[str] | None = None,
         mode: str | None = None, reinit: bool = False, resume: str | bool | None = None,
         resume_from: str | None = None, fork_from: str | None = None,
         settings: Settings | dict[str, Any] | None = None) -> Run:
    """Start a run (W&B's ``wandb.init``). Sets ``trackwell.run``, ``.config`` and ``.summary``.

    ``resume`` ("must", "allow", "never", "auto"/True) continues the run ``id`` names (or, for
    "auto", the one in ``<dir>/trackwell/resume.json``); ``resume_from="<id>?_step=N"`` rewinds
    that run to step N; ``fork_from="<id>?_step=N"`` starts a new run branching from it at N.
    ``mode="disabled"`` returns a ``DisabledRun``: the same API, nothing recorded.
    """
    active = _state.current()
    if active is not None and not active._finished:
        if not reinit:
            warn(f"trackwell.init() called while run {active.id} is active; returning it. "
                 "Call finish() first or pass reinit=True to start a new run.")
            return active  # type: ignore[return-value]  # a DisabledRun is a registered Run
        active.finish()
    if os.environ.get("TRACKWELL_SWEEP_ID"):  # a run an agent started: its id, project and parameters
        from trackwell.sdk.agent._params import sweep_init_args
        from trackwell.sdk.config import as_dict

        project, entity, id, resume, config = sweep_init_args(project, entity, id, resume, as_dict(config))
    s = as_settings(settings).resolve(project=project, entity=entity, mode=mode,
                                      dir=os.fspath(dir) if dir is not None else None, run_id=id,
                                      resume=resume, resume_from=resume_from, fork_from=fork_from)
    meta = dict(name=name, group=group, job_type=job_type, tags=tags, notes=notes, config=config)
    run: RunBase = DisabledRun(s, **meta) if s.mode == "disabled" else Run(s, **meta)
    _state.activate(run)
    if not run.disabled:
        _state.install_hooks(s)
    return run  # type: ignore[return-value]


def _active(what: str) -> RunBase:
    run = _state.current()
    if run is None:
        raise UsageError(f"call trackwell.init() before trackwell.{what}()")
    return run


def log(data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
    run = _state._current  # read directly: ``wandb.log``-style scripts call this in their loops
    if run is None:
        raise UsageError("call trackwell.init() before trackwell.log()")
    run.log(data, step, commit)


def finish(exit_code: int | None = None, quiet: bool = False) -> None:
    run = _state.current()
    if run is not None:
        run.finish(exit_code=exit_code, quiet=quiet)


def define_metric(name: str, summary: str | None = None, step_metric: str | None = None) -> None:
    _active("define_metric").define_metric(name, summary=summary, step_metric=step_metric)


def mark_preempting() -> None:
    _active("mark_preempting").mark_preempting()


def save(glob_str: Any, base_path: Any = None, policy: str = "live") -> list[str]:
    """``run.save`` on the current run (W&B's ``wandb.save``)."""
    return _active("save").save(glob_str, base_path=base_path, policy=policy)
