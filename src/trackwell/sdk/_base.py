"""What every run has, recording or not: identity, the wandb-shaped properties, ``finish()`` and
the context manager. ``Run`` (run.py) records; ``DisabledRun`` (disabled.py) does not. Both are
built through their own ``__init__``; neither skips the other's.

The process-wide pieces (``_state.py``) call the hooks below: ``_finish`` (atexit, signals),
``_flush`` (a signal the process survives), ``_record_traceback`` (an uncaught exception),
``_mark_preempting`` and ``_orphan`` (in a forked child).
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from trackwell.schema.summary import GOALS, summary_ops
from trackwell.sdk import _grace, exits
from trackwell.sdk.config import Config, Summary
from trackwell.sdk.errors import UsageError, warn
from trackwell.sdk.events import MetricDefinition
from trackwell.sdk.settings import Settings
from trackwell.sdk.terminal import termerror, termlog


class RunBase(abc.ABC):
    """The surface ``trackwell.init()`` returns, whatever the mode."""

    config: Config
    summary: Summary

    def __init__(self, settings: Settings, run_id: str, *, name: str | None, group: str | None,
                 job_type: str | None, tags: Any, notes: str | None) -> None:
        self.settings = settings
        self.start_time = time.time()
        self.id = run_id
        self.entity = str(settings.entity)
        self.project = str(settings.project)
        self._tags_given = tags is not None
        # name, group, job type, notes, tags: what init() was given; assigning one later
        # (``run.tags = ...``) journals a RunUpdate (``_fields_changed``)
        self._fields: dict[str, Any] = {"group": group, "job_type": job_type, "notes": notes,
                                        "tags": _tags(tags)}
        self._name = name
        self._watchers: list[Any] = []  # watch()'s hooks
        self._finished = False
        self.resumed = False  # continues a run that existed (online: known at init)
        self.starting_step = 0  # the first step this process logs to
        self._step = 0  # the step the next log() without step= writes to

    # -- recording: what the subclasses do ------------------------------------------------

    @abc.abstractmethod
    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
        """Record metrics (see ``Run.log``)."""

    @abc.abstractmethod
    def _define_metric(self, definition: MetricDefinition) -> None: ...

    @abc.abstractmethod
    def _mark_preempting(self, deadline: float | None) -> None: ...

    @abc.abstractmethod
    def _finish(self, exit_code: int | None, quiet: bool, clean: bool, deadline: float | None = None) -> None:
        """End the run; ``deadline`` (time.monotonic) bounds it when a signal is ending the process."""

    @abc.abstractmethod
    def _flush(self, deadline: float) -> None: ...

    @abc.abstractmethod
    def _record_traceback(self, lines: list[str]) -> None: ...

    @abc.abstractmethod
    def _orphan(self, parent_pid: int) -> None:
        """In a forked child: this run belongs to the parent; record nothing, touch nothing."""

    @abc.abstractmethod
    def journal_path(self) -> Path: ...

    @property
    @abc.abstractmethod
    def dir(self) -> str:
        """Where to put files that belong to the run (W&B's ``run.dir``)."""

    # -- the shared API -------------------------------------------------------------------

    def finish(self, exit_code: int | None = None, quiet: bool = False) -> None:
        """End the run. A recording run commits the open row, journals Exit, fsyncs, and waits (up
        to ``settings.finish_timeout``) for the server to acknowledge everything; it ended cleanly,
        so ``resume="auto"`` will not pick it up again."""
        self._finish(exit_code, quiet, clean=True)

    def save(self, glob_str: str | Any, base_path: str | Any = None, policy: str = "live") -> list[str]:
        """Upload files matching ``glob_str`` with the run (W&B's ``run.save``): ``policy="live"``
        each time they change and at the end, ``"now"`` once as they are, ``"end"`` when the run
        finishes. Names keep their folders relative to ``base_path`` (default: the working
        directory for a relative glob, the glob's folder for an absolute one). Returns their
        paths in ``run.dir``."""
        return self._save(glob_str, base_path, policy)

    @abc.abstractmethod
    def _save(self, glob_str: Any, base_path: Any, policy: str) -> list[str]: ...

    def define_metric(self, name: str, step_metric: str | None = None, step_sync: bool | None = None,
                      hidden: bool | None = None, summary: str | None = None, goal: str | None = None,
                      overwrite: bool | None = None) -> MetricDefinition:
        """Define how ``name`` (or a glob like ``"val/*"``) is charted and summarised (W&B's
        arguments): ``step_metric`` is its x-axis, ``summary`` one or more of min, max, mean,
        last, first, best (by ``goal``), none, copy, joined with commas."""
        if not name or not isinstance(name, str):
            raise UsageError(f"define_metric() needs a metric name (a non-empty string), got {name!r}")
        step_metric = getattr(step_metric, "name", step_metric)  # W&B accepts the returned object too
        for arg, value, kind in (("step_metric", step_metric, str), ("summary", summary, str), ("goal", goal, str),
                                 ("step_sync", step_sync, bool), ("hidden", hidden, bool),
                                 ("overwrite", overwrite, bool)):
            if value is not None and not isinstance(value, kind):
                raise UsageError(f"define_metric({name!r}, {arg}={value!r}): {arg} must be a {kind.__name__}")
        try:
            summary_ops(summary, goal)
        except ValueError as exc:
            raise UsageError(f"define_metric({name!r}): {exc}") from None
        if step_sync is None:
            step_sync = True if step_metric else None  # W&B's default: rows carry their x value
        definition = MetricDefinition(name, summary.lower() if summary else None, step_metric, time.time(),
                                      step_sync=step_sync, hidden=hidden,
                                      goal=GOALS[goal.lower()] if goal else None, overwrite=overwrite)
        self._define_metric(definition)
        return definition

    def watch(self, models: Any, criterion: Any = None, log: str | None = "gradients", log_freq: int = 1000,
              idx: int | None = None, log_graph: bool = False) -> None:
        """Log histograms of PyTorch ``models``' gradients and/or parameters every ``log_freq``
        steps (W&B's ``watch``; ``criterion``, ``idx`` and ``log_graph`` are accepted, unused)."""
        from trackwell.sdk.watch import Watcher

        several = isinstance(models, list | tuple)
        for i, model in enumerate(models if several else [models]):
            watcher = Watcher(model, log, log_freq, self._log_watched, f"{i}/" if several else "")
            if self.disabled:
                watcher.remove()  # checked like a recording run's, nothing hooked
            else:
                self._watchers.append(watcher)

    def unwatch(self, models: Any = None) -> None:
        """Take ``watch()``'s hooks off ``models`` (all watched models when None)."""
        chosen = None if models is None else list(models) if isinstance(models, list | tuple) else [models]
        for watcher in list(self._watchers):
            if chosen is None or any(watcher.model is m for m in chosen):
                watcher.remove()
                self._watchers.remove(watcher)

    def _log_watched(self, row: dict[str, Any]) -> None:
        if not self._finished:
            self.log(row, commit=False)  # joins the row the script logs next, as W&B's

    def log_code(self, root: str | None = ".", name: str | None = None,
                 include_fn: Callable[[str, str], bool] | None = None,
                 exclude_fn: Callable[[str, str], bool] | None = None) -> list[str] | None:
        """Copy the ``.py`` files under ``root`` (or those ``include_fn(path, root)`` picks) to
        ``<run.dir>/code/``; returns the copies (None if there were none). Stored with the run's
        files on this disk; uploading run files is not part of this SDK yet."""
        from trackwell.sdk import code

        options: dict[str, Any] = {k: v for k, v in (("include_fn", include_fn), ("exclude_fn", exclude_fn)) if v}
        copied = [] if self.disabled else code.copy_code(self.dir, root or ".", name, **options)
        return copied or None

    def alert(self, title: str, text: str, level: str | None = None, wait_duration: Any = None) -> bool:
        """Notify now (W&B's ``run.alert``); see ``trackwell.sdk.alerts``."""
        from trackwell.sdk.alerts import send_alert

        return send_alert(self, title, text, level, wait_duration)

    def mark_preempting(self) -> None:
        """Tell the server this run is about to be preempted (it will be resumed)."""
        self._mark_preempting(None)

    def __enter__(self) -> RunBase:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        code = 0 if exc is None else exits.code_for(exc)
        self._finish(code, False, clean=code == 0, deadline=_grace.deadline())

    @property
    def name(self) -> str:
        return self._name or self.id

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)
        self._fields_changed({"name": self._name})

    display_name = name  # W&B's Api name for it

    @property
    def group(self) -> str | None:
        return self._fields["group"]

    @group.setter
    def group(self, value: str | None) -> None:
        self._set_field("group", None if value is None else str(value))

    @property
    def job_type(self) -> str | None:
        return self._fields["job_type"]

    @job_type.setter
    def job_type(self, value: str | None) -> None:
        self._set_field("job_type", None if value is None else str(value))

    @property
    def notes(self) -> str | None:
        return self._fields["notes"]

    @notes.setter
    def notes(self, value: str | None) -> None:
        self._set_field("notes", None if value is None else str(value))

    @property
    def tags(self) -> tuple[str, ...]:
        return self._fields["tags"]  # type: ignore[no-any-return]

    @tags.setter
    def tags(self, value: Any) -> None:
        self._set_field("tags", _tags(value))

    def _set_field(self, field: str, value: Any) -> None:
        self._fields[field] = value
        if value is not None:  # the server keeps a field it is not sent
            self._fields_changed({field: list(value) if field == "tags" else value})

    @abc.abstractmethod
    def _fields_changed(self, fields: dict[str, Any]) -> None:
        """Run fields were assigned after init: journal them after the start record."""

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.project}/{self.id}"

    @property
    def url(self) -> str:
        return f"{self.settings.base_url}/{self.entity}/{self.project}/runs/{self.id}"

    def get_url(self) -> str | None:
        """The run's page (None when offline or disabled, as W&B's)."""
        return self.url if self.settings.mode in ("online", "shared") else None

    def get_project_url(self) -> str | None:
        return f"{self.settings.base_url}/{self.entity}/{self.project}" if self.get_url() else None

    def get_sweep_url(self) -> None:
        return None  # sweeps are not part of trackwell

    def project_name(self) -> str:
        return self.project

    @property
    def sweep_id(self) -> None:
        return None

    @property
    def mode(self) -> str:
        return str(self.settings.mode)

    @property
    def offline(self) -> bool:
        return self.settings.mode == "offline"

    @property
    def disabled(self) -> bool:
        return False

    @property
    def step(self) -> int:
        return self._step

    def __repr__(self) -> str:
        return f"<trackwell.Run {self.path} ({self.mode})>"

    def _say(self, message: str, problem: bool = False, lost: bool = False) -> None:
        """``termlog`` (quiet hides it), a problem through ``warn`` (termwarn and the warning),
        or ``lost`` data through ``termerror``, which nothing hides."""
        if lost:
            termerror(message)
        elif problem:
            warn(message)
        else:
            termlog(message)


def _tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):  # a lone tag, not its characters
        return (value,)
    return tuple(str(t) for t in (value or ()))
