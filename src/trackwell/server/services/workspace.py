"""The workspace's charts: many runs' metrics downsampled in one call, so that a grid of 50
charts over 10 runs costs one request per chart instead of one per (run, metric)."""

from __future__ import annotations

from trackwell.server.services._errors import MetricNotFound, RunNotFound
from trackwell.server.services.history import HistoryService
from trackwell.store.metrics import Downsampled


def _empty(key: str) -> Downsampled:
    return {"key": key, "count": 0, "first": None, "last": None, "buckets": []}


class WorkspaceService:
    def __init__(self, history: HistoryService) -> None:
        self._history = history

    def buckets(self, entity: str, project: str, run_ids: list[str], keys: list[str], buckets: int,
                min_step: int | None = None, max_step: int | None = None) -> dict[str, dict[str, Downsampled] | None]:
        """Per run id, per key: the key's buckets (count 0 when the run never logged it). A run
        that is not in the project is None: a workspace link naming a deleted run still shows the others."""
        return {run_id: self._run(entity, project, run_id, keys, buckets, min_step, max_step) for run_id in run_ids}

    def _run(self, entity: str, project: str, run_id: str, keys: list[str], buckets: int,
             min_step: int | None, max_step: int | None) -> dict[str, Downsampled] | None:
        per_key: dict[str, Downsampled] = {}
        for key in keys:
            try:
                per_key[key] = self._history.buckets(entity, project, run_id, key, buckets, min_step, max_step)
            except MetricNotFound:
                per_key[key] = _empty(key)
            except RunNotFound:
                return None
        return per_key
