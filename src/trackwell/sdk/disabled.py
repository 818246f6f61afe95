"""``mode="disabled"``: the same API as ``Run``, nothing recorded, nothing written, no hooks
installed (an uncaught exception prints Python's own traceback, nothing else)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trackwell.sdk import _state
from trackwell.sdk._base import RunBase
from trackwell.sdk.config import Config, Summary, as_dict
from trackwell.sdk.errors import UsageError
from trackwell.sdk.events import MetricDefinition
from trackwell.sdk.run import Run
from trackwell.sdk.rundir import generate_run_id
from trackwell.sdk.settings import Settings


class DisabledRun(RunBase):
    """A run that records nothing. ``isinstance(run, trackwell.Run)`` still holds (registered)."""

    def __init__(self, settings: Settings, *, name: str | None = None, group: str | None = None,
                 job_type: str | None = None, tags: Any = None, notes: str | None = None,
                 config: Any = None) -> None:
        super().__init__(settings, settings.run_id or generate_run_id(), name=name, group=group,
                         job_type=job_type, tags=tags, notes=notes)
        self._dir: str | None = None
        self._summary: dict[str, Any] = {}
        self.config = Config(as_dict(config), _ignore, False, bool(settings.allow_val_change))
        self.summary = Summary(lambda: self._summary, _nothing, self._assign_summary, False)

    def _assign_summary(self, update: dict[str, Any], remove: list[str]) -> None:
        self._summary.update(update)
        for key in remove:
            self._summary.pop(key, None)

    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
        pass

    def _define_metric(self, definition: MetricDefinition) -> None:
        pass

    def _mark_preempting(self, deadline: float | None) -> None:
        pass

    def _finish(self, exit_code: int | None, quiet: bool, clean: bool, deadline: float | None = None) -> None:
        if not self._finished:
            self._finished = True
            _state.deactivate(self)

    def _flush(self, deadline: float) -> None:
        pass

    def _record_traceback(self, lines: list[str]) -> None:
        pass

    def _fields_changed(self, fields: dict[str, Any]) -> None:
        pass

    def _save(self, glob_str: Any, base_path: Any, policy: str) -> list[str]:
        return []

    def _orphan(self, parent_pid: int) -> None:
        pass  # nothing of the parent's to protect: the child's disabled run goes on doing nothing

    def journal_path(self) -> Path:
        raise UsageError("a disabled run has no journal")

    def log_artifact(self, artifact_or_path: Any, name: str | None = None, type: str | None = None,  # noqa: A002
                     aliases: list[str] | None = None) -> Any:
        return artifact_or_path  # nothing is recorded

    def link_artifact(self, artifact: Any, target_path: str, aliases: list[str] | None = None) -> None:
        pass

    def use_artifact(self, artifact_or_name: Any, type: str | None = None,  # noqa: A002
                     aliases: list[str] | None = None) -> Any:
        raise UsageError("use_artifact reads the artifact from the server, and this run is disabled "
                         "(mode='disabled'); read it with trackwell.Api().artifact(...)")

    @property
    def dir(self) -> str:
        if self._dir is None:
            import tempfile

            self._dir = tempfile.mkdtemp(prefix="trackwell-disabled-")
        return self._dir

    @property
    def disabled(self) -> bool:
        return True


def _ignore(_changed: dict[str, Any]) -> None:
    pass


def _nothing() -> None:
    pass


Run.register(DisabledRun)  # code that checks isinstance(run, trackwell.Run) keeps working
