"""Artifacts: versions logged (the manifest checked and its digest recomputed here; the bytes came
through the files service's blob uploads), read, aliased, linked into registries, used, deleted;
lineage.

Routes hold the caller to the path's project; an operation that reaches a second project (a
link's source, a used artifact, lineage runs elsewhere) checks that one here, with the same policy.
"""

from __future__ import annotations

from typing import Any

import msgspec

from trackwell.schema.artifacts import (
    Entry,
    InvalidArtifact,
    check_aliases,
    check_manifest,
    check_name,
    check_selector,
    check_type,
    manifest_digest,
    split_name,
)
from trackwell.server.auth.policy import Action, Decision, Principal, decide
from trackwell.server.blobs import BlobStore
from trackwell.server.services._errors import NotFound
from trackwell.server.services.identity import Identity
from trackwell.store.metadata import (
    ArtifactConflict,
    ArtifactNotFound,
    ArtifactStore,
    MissingBlobs,
    RunStore,
)

__all__ = ["ArtifactConflict", "ArtifactNotFound", "ArtifactsService", "InvalidArtifact", "LogBody", "MissingBlobs"]

MAX_DEPTH = 5
_MAX_JSON_CHARS = 1_000_000  # description + metadata


class LogBody(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /artifacts/{entity}/{project}/versions``."""

    name: str
    type: str
    manifest: dict[str, Entry]
    description: str | None = None
    metadata: dict[str, Any] = {}
    aliases: list[str] = []
    run_id: str | None = None


def artifact_spec(spec: str, default_entity: str, default_project: str) -> tuple[str, str, str, str]:
    """``[entity/][project/]name[:version|alias]`` -> (entity, project, name, selector)."""
    parts = spec.split("/")
    if len(parts) > 3 or not all(parts):
        raise InvalidArtifact(f"artifact {spec[:200]!r} must be 'name:alias', 'project/name:alias' or "
                              "'entity/project/name:alias'")
    name, selector = split_name(parts[-1])
    entity = parts[0] if len(parts) == 3 else default_entity
    project = parts[-2] if len(parts) >= 2 else default_project
    return check_name(entity, "entity"), check_name(project, "project"), name, selector


class ArtifactsService:
    def __init__(self, artifacts: ArtifactStore, runs: RunStore, identity: Identity, blobs: BlobStore) -> None:
        self._store, self._runs, self._identity, self._blobs = artifacts, runs, identity, blobs

    def _may_read(self, who: Principal | None, entity: str, project: str) -> bool:
        return decide(who, Action.RUN_READ, self._identity.target(entity, project)) is Decision.ALLOW

    def _readable(self, who: Principal | None, spec: tuple[str, str, str, str]) -> None:
        """404 (like a missing one) for an artifact in a project the caller may not read."""
        if not self._may_read(who, spec[0], spec[1]):
            raise NotFound(f"artifact {'/'.join(spec[:3])}:{spec[3]} not found")

    # -- versions -----------------------------------------------------------------------------

    def log(self, entity: str, project: str, body: LogBody, actor: str | None) -> tuple[dict[str, Any], bool]:
        name, kind = check_name(body.name), check_type(body.type)
        aliases = check_aliases(body.aliases)
        check_manifest(body.manifest)
        if len(msgspec.json.encode([body.description, body.metadata])) > _MAX_JSON_CHARS:
            raise InvalidArtifact(f"description and metadata take more than {_MAX_JSON_CHARS} bytes as JSON")
        stored = sorted({e.digest for e in body.manifest.values() if e.ref is None})
        manifest = {p: msgspec.structs.asdict(e) for p, e in body.manifest.items()}
        for entry in manifest.values():
            if entry["ref"] is None:
                del entry["ref"]
        size = sum(e.size for e in body.manifest.values() if e.ref is None)
        return self._store.log_version(entity, project, name, kind, digest=manifest_digest(body.manifest),
                                       manifest=manifest, size=size, description=body.description,
                                       metadata=body.metadata, aliases=aliases, run_id=body.run_id, actor=actor,
                                       blobs=stored)

    def get(self, entity: str, project: str, name: str, selector: str) -> dict[str, Any]:
        found = self._store.artifact_version(entity, project, check_name(name), check_selector(selector))
        if found is None:
            raise ArtifactNotFound(f"artifact {entity}/{project}/{name}:{selector} not found; list its versions "
                                   f"with GET /api/v1/artifacts/{entity}/{project}/{name}")
        return found

    def collections(self, entity: str, project: str, type_: str | None) -> list[dict[str, Any]]:
        return self._store.artifact_collections(entity, project, check_type(type_) if type_ else None)

    def versions(self, entity: str, project: str, name: str, after: int, limit: int) -> dict[str, Any]:
        if not 1 <= limit <= 1000 or not -1 <= after < 2**31:
            raise InvalidArtifact("limit must be 1 to 1000 and after a version index (-1 for the first page)")
        found = self._store.artifact_versions(entity, project, check_name(name), after, limit)
        if found is None:
            raise ArtifactNotFound(f"artifact {entity}/{project}/{name} not found; list the project's artifacts "
                                   f"with GET /api/v1/artifacts/{entity}/{project}")
        collection, page, cursor = found
        return {"collection": collection, "versions": page, "next_after": cursor}

    def file(self, entity: str, project: str, name: str, selector: str, path: str) -> tuple[dict[str, Any], Any]:
        """(the manifest entry, an open binary stream of its bytes)."""
        version = self.get(entity, project, name, selector)
        entry = version["manifest"].get(path)
        if entry is None:
            raise ArtifactNotFound(f"artifact {entity}/{project}/{name}:{selector} has no file {path[:200]!r}")
        if entry.get("ref") is not None:
            raise InvalidArtifact(f"{path[:200]!r} is a reference to {entry['ref'][:200]!r}, not stored here: "
                                  "read it from there")
        return entry, self._blobs.open(entry["digest"])

    def set_aliases(self, entity: str, project: str, name: str, selector: str, aliases: Any,
                    actor: str | None) -> dict[str, Any]:
        return self._store.set_aliases(entity, project, check_name(name), check_selector(selector),
                                       check_aliases(aliases), actor)

    def delete(self, entity: str, project: str, name: str, selector: str, delete_aliases: bool,
               actor: str | None) -> dict[str, Any]:
        return self._store.delete_version(entity, project, check_name(name), check_selector(selector),
                                          delete_aliases=delete_aliases, actor=actor)

    def delete_collection(self, entity: str, project: str, name: str, actor: str | None) -> dict[str, Any]:
        return self._store.delete_collection(entity, project, check_name(name), actor)

    # -- registry, usage, lineage ---------------------------------------------------------------

    def link(self, entity: str, project: str, name: str, source: str, aliases: Any,
             who: Principal | None) -> dict[str, Any]:
        """Link ``source`` (``entity/project/name:version``, readable by the caller) into the
        registry collection entity/project/name."""
        spec = artifact_spec(source, entity, project)
        self._readable(who, spec)
        return self._store.link_version(spec, (entity, project, check_name(name)), check_aliases(aliases),
                                        None if who is None else who.name)

    def use(self, entity: str, project: str, run_id: str, artifact: str, who: Principal | None) -> dict[str, Any]:
        spec = artifact_spec(artifact, entity, project)
        self._readable(who, spec)
        return self._store.use_version(spec, (entity, project, run_id), None if who is None else who.name)

    def run_artifacts(self, entity: str, project: str, run_id: str, direction: str,
                      who: Principal | None) -> list[dict[str, Any]]:
        if direction not in ("logged", "used"):
            raise InvalidArtifact(f"direction must be 'logged' or 'used', got {direction[:40]!r}")
        pk = self._runs.run_pk(entity, project, run_id)
        if pk is None:
            raise ArtifactNotFound(f"run {entity}/{project}/{run_id} not found")
        return [a for a in self._store.run_artifacts(pk, direction) if self._may_read(who, a["entity"], a["project"])]

    def lineage(self, entity: str, project: str, name: str, selector: str, depth: int,
                who: Principal | None) -> dict[str, Any]:
        """Who logged the version, who used it, and the graph ``depth`` run hops around it; runs
        and artifacts in projects the caller may not read are left out."""
        if not 1 <= depth <= MAX_DEPTH:
            raise InvalidArtifact(f"depth must be 1 to {MAX_DEPTH}, got {depth}")
        version = self.get(entity, project, name, selector)
        found = self._store.artifact_graph(version["id"], depth)
        visible_runs = {f"run:{pk}": r for pk, r in found["runs"].items()
                        if r is not None and self._may_read(who, r["entity"], r["project"])}
        artifacts = {f"artifact:{a['id']}": a for a in found["artifacts"]
                     if self._may_read(who, a["entity"], a["project"])}
        nodes = {**visible_runs, **artifacts}
        logged_by = version["logged_by"]
        if logged_by is not None and not self._may_read(who, logged_by["entity"], logged_by["project"]):
            logged_by = None
        used_by = [r for r in self._store.artifact_users(version["id"])
                   if self._may_read(who, r["entity"], r["project"])]
        return {"artifact": {k: v for k, v in version.items() if k != "manifest"}, "logged_by": logged_by,
                "used_by": used_by, "nodes": [{**v, "id": k, "kind": k.split(":")[0]} for k, v in nodes.items()],
                "edges": [{"from": a, "to": b} for a, b in found["edges"] if a in nodes and b in nodes]}
