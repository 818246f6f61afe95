"""Changing and deleting runs through the query API (``PATCH`` / ``DELETE`` on a run).

A deletion takes the run's ingest lock, so it never interleaves with a batch being accepted or
projected: the metadata database deletes the run and leaves its tombstone in one transaction,
then the metric store drops its points. A batch that arrives later is refused (``RunDeleted``,
HTTP 410) and cannot bring the run back; deleting again is harmless (and finishes a metric-store
cleanup a crash interrupted).
"""

from __future__ import annotations

from typing import Any, NoReturn

from trackwell.server.services._errors import Conflict, RunNotFound
from trackwell.server.services._locks import RunLocks
from trackwell.store.metadata import Run, RunEditStore, RunStore
from trackwell.store.metrics import MetricStore


class RunEditService:
    def __init__(self, runs: RunStore, edits: RunEditStore, metrics: MetricStore, locks: RunLocks) -> None:
        self._runs, self._edits, self._metrics, self._locks = runs, edits, metrics, locks

    def update(self, entity: str, project: str, run_id: str, changes: dict[str, Any], actor: str | None = None) -> Run:
        """``changes``: the editable fields, ``config`` / ``config_remove``, ``summary`` /
        ``summary_remove`` (checked by the caller)."""
        fields = {k: v for k, v in changes.items() if k not in _MAPS}
        if not self._edits.update_run(entity, project, run_id, fields, actor=actor,
                                      **{k: v for k, v in changes.items() if k in _MAPS}):
            self._missing(entity, project, run_id)
        run = self._runs.get_run(entity, project, run_id)
        if run is None:  # deleted in between
            self._missing(entity, project, run_id)
        return run

    def delete(self, entity: str, project: str, run_id: str, actor: str | None = None) -> dict[str, Any]:
        with self._locks.lock(entity, project, run_id):
            forks = self._runs.forks_after(entity, project, run_id, -1)
            if forks:
                shown = ", ".join(fid for fid, _ in forks[:10]) + (", ..." if len(forks) > 10 else "")
                raise Conflict(f"run {entity}/{project}/{run_id} has forks that read its history: {shown}; "
                               "delete them first")
            found = self._edits.delete_run(entity, project, run_id, actor)
            if found is None:
                raise RunNotFound(entity, project, run_id)
            pk, now = found
            points = self._metrics.delete_run(pk)
        return {"entity": entity, "project": project, "id": run_id, "deleted": True, "already_deleted": not now,
                "points_removed": points}

    def _missing(self, entity: str, project: str, run_id: str) -> NoReturn:
        gone = self._edits.deleted_run(entity, project, run_id)
        raise gone.error() if gone is not None else RunNotFound(entity, project, run_id)


_MAPS = ("config", "config_remove", "summary", "summary_remove")
