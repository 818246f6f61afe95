"""Runs: create/update, get, list (filters, order, cursor), per-metric summaries."""

from __future__ import annotations

from typing import Any

from trackwell.server.services._errors import InvalidQuery, RunNotFound
from trackwell.store.metadata import QueryError, Run, RunStore, filters_from_json


class RunsService:
    def __init__(self, runs: RunStore) -> None:
        self._runs = runs

    def get(self, entity: str, project: str, run_id: str) -> Run:
        run = self._runs.get_run(entity, project, run_id)
        if run is None:
            raise RunNotFound(entity, project, run_id)
        return run

    def upsert(self, entity: str, project: str, run_id: str, fields: dict[str, Any], actor: str | None = None) -> Run:
        """Create the run (by ``actor``) or update the given fields (``config`` is merged, others replaced)."""
        return self._runs.upsert_run(entity, project, run_id, fields, actor)

    def list(self, entity: str, project: str, *, filters: str | None = None, order: str = "-created_at",
             limit: int = 50, cursor: str | None = None) -> tuple[list[Run], str | None]:
        """One page of runs and the next page's cursor (None on the last page). ``filters`` is
        the query parameter's JSON text; a query that cannot be answered is an ``InvalidQuery``."""
        try:
            return self._runs.list_runs(entity, project, filters=filters_from_json(filters), order=order,
                                        limit=limit, cursor=cursor)
        except QueryError as exc:
            raise InvalidQuery(str(exc)) from exc

    def metric_summaries(self, entity: str, project: str, run_id: str) -> dict[str, dict[str, Any]]:
        """Per metric: last, last step, min, max, count, mean."""
        pk = self._runs.run_pk(entity, project, run_id)
        if pk is None:
            raise RunNotFound(entity, project, run_id)
        return self._runs.metric_summaries(pk)
