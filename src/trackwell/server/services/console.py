"""A run's console output, in pages by line number."""

from __future__ import annotations

from typing import Any

from trackwell.server.services._errors import RunNotFound
from trackwell.store.metadata import ConsoleStore, RunStore


class ConsoleService:
    def __init__(self, runs: RunStore, console: ConsoleStore) -> None:
        self._runs, self._console = runs, console

    def lines(self, entity: str, project: str, run_id: str, offset: int = 0,
              limit: int = 1000) -> tuple[list[dict[str, Any]], int | None]:
        """Up to ``limit`` lines from line ``offset``, and the offset of the next page (None at the end)."""
        pk = self._runs.run_pk(entity, project, run_id)
        if pk is None:
            raise RunNotFound(entity, project, run_id)
        return self._console.console(pk, offset, limit)
