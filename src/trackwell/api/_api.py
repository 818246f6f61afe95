"""`trackwell.Api`: read runs and projects back, change and delete runs, shaped like `wandb.Api`."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

from trackwell import _credentials
from trackwell.api._artifacts import ArtifactsApi
from trackwell.api._automations import AutomationsApi
from trackwell.api._projects import Project, Projects
from trackwell.api._run import Run, RunNotFoundError, Runs
from trackwell.api._sweeps import Sweep
from trackwell.transport import Client, ServerError

DEFAULT_ENTITY = "default"


def _split_path(path: str, parts: int, default_entity: str | None = None) -> list[str]:
    """Accept "entity/project[/id]" (or "entity/project/runs/id"); the entity may be omitted
    (then ``TRACKWELL_ENTITY``, else ``default_entity``, else "default")."""
    pieces = [p for p in path.strip("/").split("/") if p]
    if len(pieces) == parts + 1 and pieces[-2] == "runs":
        pieces = pieces[:-2] + pieces[-1:]
    if len(pieces) == parts - 1:
        pieces = [os.environ.get("TRACKWELL_ENTITY") or default_entity or DEFAULT_ENTITY, *pieces]
    if len(pieces) != parts:
        shape = "entity/project/run_id" if parts == 3 else "entity/project"
        raise ValueError(f"bad path {path!r}: expected {shape!r}")
    return pieces


class Api(AutomationsApi, ArtifactsApi):
    """Query a trackwell server: ``Api().runs("entity/project")``, ``Api().run(path)``,
    ``Api().projects()``; automations and integrations (``AutomationsApi``).

    The key: ``api_key``, else ``TRACKWELL_API_KEY``, else the login stored for ``base_url``
    (``trackwell login``); a refused or missing one raises ``trackwell.errors.AuthenticationError``.
    A path without its entity uses ``TRACKWELL_ENTITY``, else the login's entity, else "default".
    """

    def __init__(self, base_url: str | None = None, api_key: str | None = None, timeout: float = 30.0) -> None:
        self.client = Client(base_url=base_url, api_key=api_key, timeout=timeout)
        stored = _credentials.load(self.client.base_url)
        # the login's entity only goes with the login's key (another user's would not be theirs)
        self.default_entity = stored.entity if stored and stored.api_key == self.client.api_key else None

    @classmethod
    def over(cls, client: Client) -> Api:
        """An ``Api`` sharing ``client`` (its server and key)."""
        api = cls.__new__(cls)
        api.client, api.default_entity = client, None
        return api

    @property
    def base_url(self) -> str:
        return self.client.base_url

    @property
    def entity(self) -> str:
        """The entity a path without one uses."""
        return self._entity()

    def runs(self, path: str = "", filters: dict[str, Any] | None = None,
             order: str = "-created_at", per_page: int = 50) -> Runs:
        entity, project = _split_path(path or os.environ.get("TRACKWELL_PROJECT", "uncategorized"), 2,
                                      self.default_entity)
        return Runs(self, entity, project, filters or {}, order, per_page)

    def run(self, path: str) -> Run:
        entity, project, run_id = _split_path(path, 3, self.default_entity)
        return Run(self, self._get_run(entity, project, run_id))

    def sweep(self, path: str) -> Sweep:
        """A sweep: "entity/project/id" (or "project/id"): ``.config``, ``.state``, ``.runs``,
        ``.best_run()``, ``.expected_run_count``."""
        entity, project, sweep_id = _split_path(path, 3, self.default_entity)
        return Sweep(self, entity, project, sweep_id)

    def projects(self, entity: str | None = None, per_page: int = 200) -> Projects:
        """The projects of ``entity`` (default: yours) that this key may read, with run counts."""
        entity = entity or self.entity
        try:
            found = self.client.get(f"/api/v1/projects/{quote(entity, safe='')}")["projects"]
        except ServerError as exc:
            if exc.status == 404:
                return Projects(self, entity, [])
            raise
        return Projects(self, entity, found)

    def project(self, name: str, entity: str | None = None) -> Project:
        """The project ``name`` of ``entity`` (default: yours), or ``"entity/project"``. No request
        is made until its facts are read (as in W&B)."""
        if entity is None:
            entity, name = _split_path(name, 2, self.default_entity)
        return Project(self, entity, name)

    def _get_run(self, entity: str, project: str, run_id: str) -> dict[str, Any]:
        try:
            return self.client.get(Client.run_path(entity, project, run_id))  # type: ignore[no-any-return]
        except ServerError as exc:
            if exc.status == 404:
                raise RunNotFoundError(f"no run {entity}/{project}/{run_id} on {self.base_url} that this "
                                       "API key may read", 404) from exc
            raise
