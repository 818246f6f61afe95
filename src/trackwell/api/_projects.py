"""Projects as ``Api().projects()`` lists them (W&B's ``Projects`` / ``Project``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trackwell.api._api import Api
    from trackwell.api._run import Runs
    from trackwell.automations import Automation


class Project:
    """A project: ``name``, ``entity``, ``visibility``, ``run_count``; ``runs()`` lists its runs."""

    def __init__(self, api: Api, data: dict[str, Any]) -> None:
        self._api = api
        self.entity: str = data["entity"]
        self.name: str = data["name"]
        self.visibility: str | None = data.get("visibility")
        self.run_count: int = int(data.get("runs") or 0)
        self.created_at: float | None = data.get("created_at")
        self.created_by: str | None = data.get("created_by")

    @property
    def path(self) -> list[str]:
        return [self.entity, self.name]

    @property
    def url(self) -> str:
        return f"{self._api.base_url}/{self.entity}/{self.name}"

    def runs(self, filters: dict[str, Any] | None = None, order: str = "-created_at", per_page: int = 50) -> Runs:
        return self._api.runs(f"{self.entity}/{self.name}", filters=filters, order=order, per_page=per_page)

    def automations(self, name: str | None = None) -> list[Automation]:
        """The project's automations (``trackwell.automations``; W&B's ``Project.automations()``)."""
        return self._api.project_automations(self.entity, self.name, name)

    def __repr__(self) -> str:
        return f"<Project {self.entity}/{self.name} ({self.run_count} runs)>"


class Projects:
    """The projects of an entity the key may read, in name order."""

    def __init__(self, api: Api, entity: str, found: list[dict[str, Any]]) -> None:
        self.entity = entity
        self._items = [Project(api, p) for p in found]

    def __iter__(self) -> Iterator[Project]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> Project:
        return self._items[index]

    def __repr__(self) -> str:
        return f"<Projects {self.entity} ({len(self._items)})>"
