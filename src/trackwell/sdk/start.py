"""``trackwell.init()`` and the module-level calls that act on the current run
(``trackwell.log``, ``finish``, ``define_metric``, ``mark_preempting``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from trackwell.schema import names
from trackwell.sdk import _state, terminal
from trackwell.sdk._base import RunBase
from trackwell.sdk._wandb_names import ignored_note
from trackwell.sdk.config_files import config_dict, initial_config
from trackwell.sdk.disabled import DisabledRun
from trackwell.sdk.errors import UsageError
from trackwell.sdk.run import Run
from trackwell.sdk.settings import Settings, as_settings


def init(entity: str | None = None, project: str | None = None, dir: str | os.PathLike[str] | None = None,
         id: str | None = None, name: str | None = None, notes: str | None = None, tags: Any = None,
         config: Any = None, config_exclude_keys: Any = None, config_include_keys: Any = None,
         allow_val_change: bool | None = None, group: str | None = None, job_type: str | None = None,
         mode: str | None = None, force: bool | None = None, reinit: bool | str | None = None,
         resume: str | bool | None = None, resume_from: str | None = None, fork_from: str | None = None,
         save_code: bool | None = None, tensorboard: bool | None = None, sync_tensorboard: bool | None = None,
         monitor_gym: bool | None = None, settings: Settings | dict[str, Any] | None = None,
         anonymous: Any = None, **unknown: Any) -> Run:
    """Start a run (W&B's ``wandb.init``, same arguments). Sets ``trackwell.run``, ``.config``
    and ``.summary`` (except with ``reinit="create_new"``, as W&B).

    ``resume`` ("must", "allow", "never", "auto"/True) continues the run ``id`` names (or, for
    "auto", the one in ``<dir>/trackwell/resume.json``); ``resume_from="<id>?_step=N"`` rewinds
    that run to step N; ``fork_from="<id>?_step=N"`` starts a new run branching from it at N.
    ``mode="disabled"`` returns a ``DisabledRun``: the same API, nothing recorded.
    ``config`` may be a dict, an argparse Namespace or a YAML file's path. ``reinit`` (W&B 0.31):
    "default" (``return_previous``, ``finish_previous`` in a notebook), "return_previous",
    "finish_previous", "create_new" (a second live run; not ``trackwell.run``); True/False are
    "finish_previous"/"return_previous". Arguments with no meaning here (``sync_tensorboard``,
    ``monitor_gym``, ...) are accepted and said once; unknown ones raise ``UsageError``.
    """
    if unknown:
        raise UsageError(f"init() got unknown argument(s) {', '.join(sorted(unknown))}; it takes W&B's "
                         "init arguments (docs/sdk-parity.md)")
    if os.environ.get("TRACKWELL_SWEEP_ID"):  # a run an agent started: its id, project and parameters
        from trackwell.sdk.agent._params import sweep_init_args

        project, entity, id, resume, config = sweep_init_args(project, entity, id, resume, config_dict(config))
    given = as_settings(settings)
    explicit = dict(project=_project(project), entity=entity, mode=mode, run_id=id, resume=resume,
                    dir=os.fspath(dir) if dir is not None else None, resume_from=resume_from,
                    fork_from=fork_from, run_name=name, run_group=group, run_job_type=job_type, run_notes=notes,
                    run_tags=tags, allow_val_change=allow_val_change, reinit=reinit, save_code=save_code)
    s = given.resolve(**explicit)
    terminal.configure(silent=bool(s.silent), quiet=bool(s.quiet))
    previous = _previous_run(s)
    if previous is not None:
        return previous  # type: ignore[return-value]  # a DisabledRun is a registered Run
    _check_path(s)
    ignored = [*s._ignored, *(arg for arg, value in (("force", force), ("tensorboard", tensorboard),
               ("sync_tensorboard", sync_tensorboard), ("monitor_gym", monitor_gym), ("anonymous", anonymous))
               if value not in (None, False))]
    if ignored:
        terminal.termlog(ignored_note(ignored))
    initial = initial_config(config, s.config_paths, config_include_keys, config_exclude_keys)
    meta = dict(name=s.run_name, group=s.run_group, job_type=s.run_job_type, notes=s.run_notes,
                tags=s.run_tags, config=initial)
    run: RunBase = DisabledRun(s, **meta) if s.mode == "disabled" else Run(s, **meta)
    _state.activate(run, current=s.reinit != "create_new")
    if not run.disabled:
        _state.install_hooks(s)
    return run  # type: ignore[return-value]


def _project(project: Any) -> Any:
    if project is not None and not isinstance(project, str):
        raise UsageError(f"project={project!r}: a project is one name (a string), not a "
                         f"{type(project).__name__}; {names.PATH_RULE}")
    return project


def _check_path(s: Settings) -> None:
    """Entity and project by the server's rule (``schema.names``): a run it would refuse forever
    is refused now, with the rule. Run ids are checked where they are planned (resume.py)."""
    for what in ("project", "entity"):
        problem = names.path_problem(what, getattr(s, what))
        if problem is not None:
            raise UsageError(problem)


def _previous_run(s: Settings) -> RunBase | None:
    """What ``reinit`` makes of the runs still live: the one to return, or None to start a new run."""
    live = [run for run in _state.live() if not run._finished]
    if not live or s.reinit == "create_new":
        return None
    mode = s.reinit
    if mode == "default":
        mode = "finish_previous" if _in_notebook() else "return_previous"
    if mode == "finish_previous":
        terminal.termlog(f"finishing the previous run(s) ({', '.join(r.id for r in live)}): reinit={s.reinit!r}")
        for run in reversed(live):
            run.finish()
        return None
    if s.resume == "must":
        raise UsageError(f"init(resume='must') while run {live[-1].id} is active: call finish() first, or "
                         "pass reinit='create_new'")
    terminal.termlog(f"init() called while run {live[-1].id} is active and reinit={s.reinit!r}: returning "
                     "it (reinit='finish_previous' starts a new run)")
    return live[-1]


def _in_notebook() -> bool:
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return type(shell).__name__ == "ZMQInteractiveShell"


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


def define_metric(name: str, step_metric: str | None = None, step_sync: bool | None = None,
                  hidden: bool | None = None, summary: str | None = None, goal: str | None = None,
                  overwrite: bool | None = None) -> Any:
    return _active("define_metric").define_metric(name, step_metric=step_metric, step_sync=step_sync, hidden=hidden,
                                                  summary=summary, goal=goal, overwrite=overwrite)


def mark_preempting() -> None:
    _active("mark_preempting").mark_preempting()


def alert(title: str, text: str, level: str | None = None, wait_duration: Any = None) -> bool:
    """``run.alert`` on the current run (W&B's ``wandb.alert``)."""
    return _active("alert").alert(title, text, level, wait_duration)


def save(glob_str: Any, base_path: Any = None, policy: str = "live") -> list[str]:
    """``run.save`` on the current run (W&B's ``wandb.save``)."""
    return _active("save").save(glob_str, base_path=base_path, policy=policy)
def watch(models: Any, criterion: Any = None, log: str | None = "gradients", log_freq: int = 1000,
          idx: int | None = None, log_graph: bool = False) -> None:
    _active("watch").watch(models, criterion=criterion, log=log, log_freq=log_freq, idx=idx, log_graph=log_graph)


def unwatch(models: Any = None) -> None:
    _active("unwatch").unwatch(models)


def log_code(root: str | None = ".", name: str | None = None, include_fn: Any = None,
             exclude_fn: Any = None) -> list[str] | None:
    return _active("log_code").log_code(root, name, include_fn=include_fn, exclude_fn=exclude_fn)


def get_url() -> str | None:
    """The current run's page, or None without an online run (W&B's)."""
    run = _state.current()
    return run.get_url() if run is not None else None
