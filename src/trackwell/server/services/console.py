"""What a run left behind to read: its console output in pages by line number, and its
lifecycle events (created, stopped, rewound, forked, crashed..., each with who did it)."""

from __future__ import annotations

from typing import Any

from trackwell.server.services._errors import RunNotFound
from trackwell.store.metadata import ConsoleStore, EventStore, RunStore


class ConsoleService:
    def __init__(self, runs: RunStore, console: ConsoleStore, events: EventStore) -> None:
        self._runs, self._console, self._events = runs, console, events

    def lines(self, entity: str, project: str, run_id: str, offset: int = 0,
              limit: int = 1000) -> tuple[list[dict[str, Any]], int | None]:
        """Up to ``limit`` lines from line ``offset``, and the offset of the next page (None at the end)."""
        return self._console.console(self._pk(entity, project, run_id), offset, limit)

    def events(self, entity: str, project: str, run_id: str, after_id: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """The run's events after ``after_id``, oldest first: kind, payload, when, and by whom."""
        found = self._events.events(after_id, limit, run_pk=self._pk(entity, project, run_id))
        return [{k: v for k, v in e.items() if k != "run_pk"} for e in found]

    def _pk(self, entity: str, project: str, run_id: str) -> int:
        pk = self._runs.run_pk(entity, project, run_id)
        if pk is None:
            raise RunNotFound(entity, project, run_id)
        return pk
