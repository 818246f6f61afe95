"""What every run has, recording or not: identity, the wandb-shaped properties, ``finish()`` and
the context manager. ``Run`` (run.py) records; ``DisabledRun`` (disabled.py) does not. Both are
built through their own ``__init__``; neither skips the other's.

The process-wide pieces (``_state.py``) call the hooks below: ``_finish`` (atexit, signals),
``_flush`` (a signal the process survives), ``_record_traceback`` (an uncaught exception),
``_mark_preempting`` and ``_orphan`` (in a forked child).
"""

from __future__ import annotations

import abc
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from trackwell.schema import SUMMARY_MODES
from trackwell.sdk import _grace, exits
from trackwell.sdk.config import Config, Summary
from trackwell.sdk.errors import UsageError, warn
from trackwell.sdk.settings import Settings


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
        self.group, self.job_type, self.notes = group, job_type, notes
        self._tags_given = tags is not None
        self.tags = tuple(str(t) for t in (tags or ()))
        self._name = name
        self._finished = False
        self.resumed = False  # continues a run that existed (online: known at init)
        self.starting_step = 0  # the first step this process logs to
        self._step = 0  # the step the next log() without step= writes to

    # -- recording: what the subclasses do ------------------------------------------------

    @abc.abstractmethod
    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
        """Record metrics (see ``Run.log``)."""

    @abc.abstractmethod
    def _define_metric(self, name: str, summary: str | None, step_metric: str | None) -> None: ...

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

    def define_metric(self, name: str, summary: str | None = None, step_metric: str | None = None) -> None:
        """Set how ``name`` (or a glob like ``"val/*"``) is summarised: min/max/mean/last/none."""
        if summary is not None and summary not in SUMMARY_MODES:
            raise UsageError(f"define_metric({name!r}, summary={summary!r}): summary must be one "
                             f"of {', '.join(SUMMARY_MODES)}")
        self._define_metric(str(name), summary, step_metric)

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
        self._renamed()

    @abc.abstractmethod
    def _renamed(self) -> None:
        """``run.name`` was assigned."""

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.project}/{self.id}"

    @property
    def url(self) -> str:
        return f"{self.settings.base_url}/{self.entity}/{self.project}/runs/{self.id}"

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

    def _say(self, message: str, problem: bool = False) -> None:
        if problem:
            warn(f"trackwell: {message}")
        elif not self.settings.quiet:
            print(f"trackwell: {message}", file=sys.stderr)
