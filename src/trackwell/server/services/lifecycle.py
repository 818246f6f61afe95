"""Resume info, rewind, fork, stop, preempting and the crash reaper: the run-lifecycle operations.

HTTP-agnostic: ``RunNotFound`` (a ``LookupError``) means no such run, ``ValueError`` a bad
argument, ``Conflict`` one with the run's state or its forks.
"""

from __future__ import annotations

from typing import Any

from trackwell.server.projector import Projector, continuation
from trackwell.server.services._errors import Conflict, RunNotFound
from trackwell.server.services._locks import RunLocks
from trackwell.store.metadata import LifecycleError, Run, RunStore, StateStore
from trackwell.store.metrics import MetricStore


class LifecycleService:
    def __init__(self, runs: RunStore, states: StateStore, metrics: MetricStore, projector: Projector,
                 locks: RunLocks) -> None:
        self._runs, self._states, self._metrics = runs, states, metrics
        self._projector = projector
        self._locks = locks

    def resume_info(self, entity: str, project: str, run_id: str) -> dict[str, Any]:
        """What a resuming client needs before its first log: the run, its last step, where to go on."""
        pk = self._pk(entity, project, run_id)
        last, nxt = continuation(self._runs, self._metrics, pk, entity, project, run_id)
        return {"run": self._runs.get_run(entity, project, run_id), "last_step": last, "next_step": nxt}

    def rewind(self, entity: str, project: str, run_id: str, step: int, actor: str | None = None) -> dict[str, Any]:
        """Hide the run's history after ``step`` (kept for audit); logging continues at step + 1."""
        if step < 0:
            raise ValueError(f"cannot rewind run {entity}/{project}/{run_id} to step {step}; steps start at 0")
        with self._locks.lock(entity, project, run_id):
            self._settle(entity, project, run_id)  # what was accepted before the rewind is rewound too
            found = self._runs.lineage(entity, project, run_id)
            if found is None:
                raise RunNotFound(entity, project, run_id)
            pk, segments = found
            fork = self._run(entity, project, run_id)["forked_from"]
            if fork is not None and step < fork["step"]:
                raise ValueError(f"run {run_id} is a fork of {fork['id']} at step {fork['step']}; rewind it to step "
                                 f"{fork['step']} or later, or fork {fork['id']} at step {step} instead")
            forks = self._runs.forks_after(entity, project, run_id, step)
            if forks:
                shown = ", ".join(f"{fid} (step {fstep})" for fid, fstep in forks[:5])
                raise Conflict(f"run {run_id} has forks that read its history past step {step}: {shown}; "
                               f"rewind it to step {max(s for _, s in forks)} or later, or fork it at step "
                               f"{step} instead")
            hidden = self._metrics.rewind(pk, step)
            self._runs.rewound(pk, step, hidden, self._metrics.stats(segments), actor)
        return self.resume_info(entity, project, run_id)

    def fork(self, entity: str, project: str, run_id: str, source: str, step: int,
             fields: dict[str, Any], actor: str | None = None) -> dict[str, Any]:
        """Create ``run_id`` whose history is ``source``'s up to ``step`` (by reference), then its own.
        Under the source's lock (a rewind of it cannot run in between) and the new run's."""
        if source == run_id:
            raise ValueError(f"run {run_id} cannot be forked from itself; fork into a new run id")
        with self._locks.locks((entity, project, source), (entity, project, run_id)):
            self._settle(entity, project, source)
            found = self._runs.lineage(entity, project, source)
            if found is None:
                raise RunNotFound(entity, project, source)
            _, segments = found
            last = self._metrics.last_step(segments)
            if last is None:
                raise ValueError(f"run {source} has no history to fork from; start a new run instead")
            if not 0 <= step <= last:
                raise ValueError(f"cannot fork run {source} at step {step}: its steps go from 0 to {last}")
            read = [(pk, step if ceiling is None else min(ceiling, step)) for pk, ceiling in segments]
            if not self._runs.create_fork(entity, project, run_id, self._run(entity, project, source), step, read,
                                          self._metrics.stats(read), dict(fields), actor):
                raise Conflict(f"run {entity}/{project}/{run_id} already exists; fork into a new run id "
                               "(or leave the id out to get a generated one)")
            return self.resume_info(entity, project, run_id)

    def stop(self, entity: str, project: str, run_id: str, actor: str | None = None) -> Run:
        """Mark the run killed; its process learns it with its next upload or heartbeat."""
        try:
            self._states.stop_run(self._pk(entity, project, run_id), actor)
        except LifecycleError as exc:
            raise Conflict(str(exc)) from exc
        return self._run(entity, project, run_id)

    def preempting(self, entity: str, project: str, run_id: str) -> dict[str, Any]:
        """``run.mark_preempting()``'s out-of-band call, ahead of queued batches."""
        return {"state": self._states.mark_preempting(self._pk(entity, project, run_id))}

    def reap(self, silent_since: float) -> list[int]:
        """Active runs not heard from since ``silent_since`` become crashed (preempting ones
        preempted); returns their pks."""
        return self._states.reap(silent_since)

    def _pk(self, entity: str, project: str, run_id: str) -> int:
        pk = self._runs.run_pk(entity, project, run_id)
        if pk is None:
            raise RunNotFound(entity, project, run_id)
        return pk

    def _run(self, entity: str, project: str, run_id: str) -> Run:
        run = self._runs.get_run(entity, project, run_id)
        if run is None:
            raise RunNotFound(entity, project, run_id)
        return run

    def _settle(self, entity: str, project: str, run_id: str) -> None:
        """Bring the stores up to the run's ingest log before reading them (caller holds its lock)."""
        pk = self._runs.run_pk(entity, project, run_id)
        if pk is not None:
            self._projector.settle(pk, entity, project, run_id)
