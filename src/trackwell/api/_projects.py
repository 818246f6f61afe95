"""Projects as ``Api().projects()`` lists them and ``Api().project()`` names one (W&B's
``Projects`` / ``Project``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from trackwell.transport import ServerError

if TYPE_CHECKING:
    from trackwell.api._api import Api
    from trackwell.api._run import Runs
    from trackwell.automations import Automation


class Project:
    """A project: ``name``, ``entity``, ``visibility``, ``run_count``, ``created_at``,
    ``created_by``; ``runs()`` lists its runs, ``automations()`` the automations watching it.

    As in W&B, ``Api().project(...)`` makes no request: the server's facts load on first use
    (``RunNotFoundError`` then if there is no such project this key may read)."""

    def __init__(self, api: Api, entity: str, name: str, data: dict[str, Any] | None = None) -> None:
        self._api, self.entity, self.name = api, entity, name
        self._data = data

    @property
    def project(self) -> str:
        """The project's name (what automation scopes read)."""
        return self.name

    def _facts(self) -> dict[str, Any]:
        if self._data is None:
            from trackwell.api._run import RunNotFoundError

            try:
                self._data = self._api.client.get(
                    f"/api/v1/projects/{quote(self.entity, safe='')}/{quote(self.name, safe='')}")
            except ServerError as exc:
                if exc.status == 404:
                    raise RunNotFoundError(f"no project {self.entity}/{self.name} on {self._api.base_url} that this "
                                           "API key may read", 404) from exc
                raise
        return self._data  # type: ignore[return-value]

    @property
    def visibility(self) -> str | None:
        return self._facts().get("visibility")  # type: ignore[no-any-return]

    @property
    def run_count(self) -> int:
        return int(self._facts().get("runs") or 0)

    @property
    def created_at(self) -> float | None:
        return self._facts().get("created_at")  # type: ignore[no-any-return]

    @property
    def created_by(self) -> str | None:
        return self._facts().get("created_by")  # type: ignore[no-any-return]

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
        return f"<Project {self.entity}/{self.name}>"


class Projects:
    """The projects of an entity the key may read, in name order."""

    def __init__(self, api: Api, entity: str, found: list[dict[str, Any]]) -> None:
        self.entity = entity
        self._items = [Project(api, entity, p["name"], p) for p in found]

    def __iter__(self) -> Iterator[Project]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> Project:
        return self._items[index]

    def __repr__(self) -> str:
        return f"<Projects {self.entity} ({len(self._items)})>"
