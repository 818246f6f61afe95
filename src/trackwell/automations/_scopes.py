"""Where an automation watches: a project (a registry is a project) or an artifact collection.
Given as ``"entity/project"``, ``"entity/project/collection"``, ``"project"`` (the default
entity), or an object with ``entity`` and ``project``/``name`` attributes (``Api().project(...)``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from trackwell.automations._base import Model

_NAME = Field(min_length=1, max_length=128)


class ProjectScope(Model):
    scope_type: Literal["PROJECT"] = "PROJECT"
    entity: str | None = Field(default=None, max_length=128)  # None: the API's default entity, filled in on save
    project: str = _NAME

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.project}"


class ArtifactCollectionScope(ProjectScope):
    scope_type: Literal["ARTIFACT_COLLECTION"] = "ARTIFACT_COLLECTION"  # type: ignore[assignment]
    collection: str = _NAME

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.project}/{self.collection}"


RegistryScope = ProjectScope
Scope = ProjectScope | ArtifactCollectionScope


def parse_scope(value: Any) -> Any:
    """A scope model from any of the accepted shapes (pydantic reports what is wrong otherwise)."""
    if isinstance(value, ProjectScope):
        return value
    if isinstance(value, str):
        parts = [p for p in value.strip().strip("/").split("/") if p]
        if len(parts) == 4 and parts[2] in ("artifacts", "collections"):  # a URL-like collection path
            parts = [parts[0], parts[1], parts[3]]
        if len(parts) == 1:
            return ProjectScope(project=parts[0])
        if len(parts) == 2:
            return ProjectScope(entity=parts[0], project=parts[1])
        if len(parts) == 3:
            return ArtifactCollectionScope(entity=parts[0], project=parts[1], collection=parts[2])
        raise ValueError(f"scope {value!r} is not 'entity/project' or 'entity/project/collection'")
    if isinstance(value, dict):
        kind = value.get("scope_type", "ARTIFACT_COLLECTION" if value.get("collection") else "PROJECT")
        return (ArtifactCollectionScope if kind == "ARTIFACT_COLLECTION" else ProjectScope).model_validate(value)
    entity = getattr(value, "entity", None)
    project = getattr(value, "project", None)
    collection = getattr(value, "collection", None)
    if project is None and entity is not None:  # an Api project object: its name is the project
        project = getattr(value, "name", None)
    if isinstance(project, str):
        if isinstance(collection, str):
            return ArtifactCollectionScope(entity=entity, project=project, collection=collection)
        return ProjectScope(entity=entity, project=project)
    raise ValueError(f"a scope is 'entity/project', 'entity/project/collection' or an Api project; not {value!r}")
