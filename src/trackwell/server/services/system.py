"""A run's machine: its system metrics (``system/...`` on a time axis) and metadata."""

from __future__ import annotations

from typing import Any

from trackwell.server.services._errors import RunNotFound
from trackwell.store.metadata import RunStore, SystemStore


class SystemService:
    def __init__(self, runs: RunStore, system: SystemStore) -> None:
        self._runs, self._system = runs, system

    def metadata(self, entity: str, project: str, run_id: str) -> dict[str, Any]:
        """``{"metadata": {...}, "updated_at": t}``; an empty ``metadata`` before the client sent any."""
        found = self._system.run_metadata(self._pk(entity, project, run_id))
        return found if found is not None else {"metadata": {}, "updated_at": None}

    def metrics(self, entity: str, project: str, run_id: str, keys: list[str] | None,
                samples: int) -> dict[str, Any]:
        """Columns of up to ``samples`` samples: ``runtime``, ``ts``, ``series`` by key."""
        return self._system.system_samples(self._pk(entity, project, run_id), keys, samples)

    def _pk(self, entity: str, project: str, run_id: str) -> int:
        pk = self._runs.run_pk(entity, project, run_id)
        if pk is None:
            raise RunNotFound(entity, project, run_id)
        return pk
