"""``trackwell.Api``'s artifacts: ``artifact("entity/project/name:alias")``, ``artifact_versions``,
``artifact_collections``, and a run's ``logged_artifacts()`` / ``used_artifacts()`` (mixins the
public classes take)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from trackwell.errors import CommError
from trackwell.transport import Client, ServerError

if TYPE_CHECKING:
    from trackwell.sdk.artifacts import Artifact


class ArtifactNotFoundError(CommError, LookupError):
    """No such artifact, version or alias that this key may read (hidden ones read the same)."""


def _project_path(path: str, default_entity: str | None) -> tuple[str, str, str]:
    """``[entity/][project/]name`` -> (entity, project, the rest)."""
    parts = path.strip("/").split("/")
    if len(parts) > 3 or not all(parts):
        raise ValueError(f"bad artifact path {path!r}: expected 'entity/project/name[:version]'")
    entity = parts[0] if len(parts) == 3 else (os.environ.get("TRACKWELL_ENTITY") or default_entity or "default")
    project = parts[-2] if len(parts) >= 2 else os.environ.get("TRACKWELL_PROJECT", "uncategorized")
    return entity, project, parts[-1]


class ArtifactsApi:
    """Mixed into ``Api``."""

    client: Client
    default_entity: str | None

    def _get(self, path: str, what: str, params: dict[str, Any] | None = None) -> Any:
        try:
            return self.client.get(path, params, msgpack=False)
        except ServerError as exc:
            if exc.status == 404:
                raise ArtifactNotFoundError(f"{what} not found on {self.client.base_url}: {exc.detail}", 404) from exc
            raise

    def artifact(self, name: str, type: str | None = None) -> Artifact:  # noqa: A002 - W&B's name
        """The version ``[entity/][project/]name[:version|alias]`` (default ``latest``)."""
        from trackwell.sdk.artifacts import Artifact

        entity, project, rest = _project_path(name, self.default_entity)
        collection, _, selector = rest.partition(":")
        found = self._get(f"/api/v1/artifacts/{entity}/{project}/{collection}/{selector or 'latest'}",
                          f"artifact {entity}/{project}/{rest}")
        if type is not None and found["type"] != type:
            raise ArtifactNotFoundError(f"artifact {entity}/{project}/{rest} has type {found['type']!r}, "
                                        f"not {type!r}", 404)
        return Artifact._from_server(self.client, found)

    def artifact_versions(self, type_name: str | None = None, name: str = "", per_page: int = 100) -> list[Artifact]:
        """Every version of the collection ``[entity/][project/]name``, oldest first."""
        from trackwell.sdk.artifacts import Artifact

        entity, project, collection = _project_path(name, self.default_entity)
        base = f"/api/v1/artifacts/{entity}/{project}/{collection}"
        out: list[Artifact] = []
        after = -1
        while True:
            page = self._get(base, f"artifact {entity}/{project}/{collection}", {"after": after, "limit": per_page})
            if type_name is not None and page["collection"]["type"] != type_name:
                return []
            out += [Artifact._from_server(self.client, v) for v in page["versions"]]
            if page["next_after"] is None:
                return out
            after = page["next_after"]

    artifacts = artifact_versions  # W&B's other name

    def delete_artifact_collection(self, name: str) -> dict[str, Any]:
        """Delete the collection ``[entity/][project/]name``: every version (a registry collection:
        every link); the blobs nothing else holds go with the next gc."""
        entity, project, collection = _project_path(name, self.default_entity)
        try:
            return self.client.request(  # type: ignore[no-any-return]
                "DELETE", f"/api/v1/artifacts/{entity}/{project}/{collection}")
        except ServerError as exc:
            if exc.status == 404:
                raise ArtifactNotFoundError(f"artifact {entity}/{project}/{collection} not found on "
                                            f"{self.client.base_url}: {exc.detail}", 404) from exc
            raise

    def artifact_collections(self, project_name: str = "", type_name: str | None = None) -> list[dict[str, Any]]:
        """The project's collections (name, type, kind "source" or "portfolio", version count)."""
        entity, project, _ = _project_path(f"{project_name or os.environ.get('TRACKWELL_PROJECT', 'uncategorized')}/x",
                                           self.default_entity)
        params = {"type": type_name} if type_name else None
        found = self._get(f"/api/v1/artifacts/{entity}/{project}", f"project {entity}/{project}", params)
        return found["collections"]  # type: ignore[no-any-return]


class RunArtifactsApi:
    """Mixed into ``Api``'s ``Run``."""

    _api: Any

    @property
    def _base(self) -> str:
        raise NotImplementedError  # ``Run``'s

    def _artifacts(self, direction: str) -> list[Artifact]:
        from trackwell.sdk.artifacts import Artifact

        found = self._api.client.get(self._base + "/artifacts", {"direction": direction}, msgpack=False)
        return [Artifact._from_server(self._api.client, a) for a in found["artifacts"]]

    def logged_artifacts(self) -> list[Artifact]:
        """The artifact versions this run logged."""
        return self._artifacts("logged")

    def used_artifacts(self) -> list[Artifact]:
        """The artifact versions this run used (its lineage inputs)."""
        return self._artifacts("used")
