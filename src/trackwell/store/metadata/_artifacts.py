"""Artifact writes: log a version (dedup by manifest digest), aliases, registry links, usage,
deletion. Every change writes its outbox event in the same transaction.

Concurrency: each change locks its collection's row first (``FOR UPDATE`` on PostgreSQL;
SQLite writers take turns), so two runs logging the same new contents at once get one version,
and version numbers and aliases never race. The unique constraints back this up.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from trackwell.schema.artifacts import LATEST
from trackwell.store.metadata import _artifact_reads as reads
from trackwell.store.metadata._accounts import ensure_project
from trackwell.store.metadata._apply import add_event
from trackwell.store.metadata._artifact_tables import (
    artifact_aliases,
    artifact_collections,
    artifact_members,
    artifact_usage,
    artifact_versions,
)
from trackwell.store.metadata._blobs import add_refs, drop_refs
from trackwell.store.metadata._database import Database
from trackwell.store.metadata._lifecycle import for_update
from trackwell.store.metadata._summaries import insert_for
from trackwell.store.metadata._tables import blobs, runs

C, V, M, A = reads.C, reads.V, reads.M, reads.A
ARTIFACT = "artifact"  # blob_refs.kind of artifact versions; owner: str(version id)
_CHUNK = 500  # digests per IN list


class ArtifactNotFound(LookupError):
    """No such collection, version, alias or run (HTTP 404); the message names it."""


class ArtifactConflict(Exception):
    """The change contradicts what is stored (HTTP 409): another type, a registry collection, aliases."""


class MissingBlobs(Exception):
    """The manifest names blobs the server does not hold (HTTP 409): upload them, log again."""

    def __init__(self, digests: list[str]) -> None:
        super().__init__(f"{len(digests)} blob(s) of the manifest are not uploaded (first: {digests[0]}); upload "
                         "them (POST .../blobs/missing says which), then log the version again")
        self.digests = digests


def _path(entity: str, project: str, name: str) -> str:
    return f"{entity}/{project}/{name}"


def _event(conn: sa.Connection, kind: str, coll: Any, idx: int, vid: int, now: float, actor: str | None,
           run_pk: int | None = None, **extra: Any) -> None:
    add_event(conn, kind, run_pk, {"entity": coll.entity, "project": coll.project, "name": coll.name,
                                   "type": coll.type, "version": f"v{idx}", "version_id": vid, **extra}, now, actor)


class SqlArtifactStore(Database):
    """``ArtifactStore`` on the metadata database."""

    # -- collections ------------------------------------------------------------------------

    def _collection(self, conn: sa.Connection, entity: str, project: str, name: str, *, type_: str | None,
                    kind: str, actor: str | None, now: float, description: str | None = None) -> Any:
        """The collection's row, locked; created (``kind``, ``type_``) when missing and ``type_`` is given."""
        if type_ is not None:
            conn.execute(insert_for(conn, artifact_collections).values(
                entity=entity, project=project, name=name, type=type_, kind=kind, description=description,
                created_at=now, created_by=actor).on_conflict_do_nothing(
                index_elements=[C.entity, C.project, C.name]))
        coll = conn.execute(for_update(sa.select(artifact_collections).where(
            C.entity == entity, C.project == project, C.name == name), conn)).first()
        if coll is None:
            raise ArtifactNotFound(f"artifact {_path(entity, project, name)} not found; list a project's artifacts "
                                   f"with GET /api/v1/artifacts/{entity}/{project}")
        if type_ is not None and coll.type != type_:
            raise ArtifactConflict(f"artifact {_path(entity, project, name)} has type {coll.type!r}, not {type_!r}; "
                                   "use another name or the collection's type")
        if type_ is not None and coll.kind != kind:
            raise ArtifactConflict(
                f"{_path(entity, project, name)} is a registry collection: link versions to it with link_artifact"
                if coll.kind == "portfolio" else
                f"{_path(entity, project, name)} holds logged versions: link to a registry collection of another name")
        return coll

    def _member(self, conn: sa.Connection, coll: Any, selector: str) -> tuple[int, int]:
        found = reads.member_of(conn, coll.id, selector)
        if found is None:
            raise ArtifactNotFound(f"artifact {_path(coll.entity, coll.project, coll.name)} has no version "
                                   f"{selector!r}; list its versions with GET /api/v1/artifacts/"
                                   f"{coll.entity}/{coll.project}/{coll.name}")
        return found

    def _add_member(self, conn: sa.Connection, coll: Any, vid: int, now: float) -> int:
        idx = int(conn.execute(sa.select(C.next_index).where(C.id == coll.id)).scalar_one())
        conn.execute(artifact_members.insert().values(collection_id=coll.id, idx=idx, version_id=vid, created_at=now))
        conn.execute(artifact_collections.update().where(C.id == coll.id).values(next_index=idx + 1))
        return idx

    # -- aliases ----------------------------------------------------------------------------

    def _point(self, conn: sa.Connection, coll: Any, alias: str, idx: int, vid: int, now: float,
               actor: str | None) -> None:
        """Move (or add) ``alias`` to the version; one row per (collection, alias), so a move is atomic."""
        current = conn.execute(sa.select(A.version_id).where(A.collection_id == coll.id, A.alias == alias)).scalar()
        if current == vid:
            return
        stmt = insert_for(conn, artifact_aliases).values(collection_id=coll.id, alias=alias, version_id=vid)
        conn.execute(stmt.on_conflict_do_update(index_elements=[A.collection_id, A.alias],
                                                set_={"version_id": vid}))
        _event(conn, "artifact_alias_added", coll, idx, vid, now, actor, alias=alias)

    def _relatest(self, conn: sa.Connection, coll_ids: list[int], now: float, actor: str | None) -> None:
        """``latest`` of each collection to its newest member (after a member was removed)."""
        for coll_id in coll_ids:
            coll = conn.execute(sa.select(artifact_collections).where(C.id == coll_id)).one()
            newest = conn.execute(sa.select(M.idx, M.version_id).where(M.collection_id == coll_id)
                                  .order_by(M.idx.desc()).limit(1)).first()
            if newest is not None:
                self._point(conn, coll, LATEST, int(newest.idx), int(newest.version_id), now, actor)

    def set_aliases(self, entity: str, project: str, name: str, selector: str, aliases: list[str],
                    actor: str | None) -> dict[str, Any]:
        """Make ``aliases`` the version's aliases in the collection (``latest`` moves by itself)."""
        now = time.time()
        with self.write() as conn:
            coll = self._collection(conn, entity, project, name, type_=None, kind="", actor=actor, now=now)
            idx, vid = self._member(conn, coll, selector)
            current = set(conn.execute(sa.select(A.alias).where(A.collection_id == coll.id, A.version_id == vid))
                          .scalars())
            if (LATEST in aliases) != (LATEST in current):
                raise ArtifactConflict(f"'{LATEST}' moves by itself to the newest version; leave it "
                                       f"{'in' if LATEST in current else 'out of'} the aliases")
            for gone in sorted(current - set(aliases)):
                conn.execute(artifact_aliases.delete().where(A.collection_id == coll.id, A.alias == gone))
                _event(conn, "artifact_alias_removed", coll, idx, vid, now, actor, alias=gone)
            for alias in aliases:
                self._point(conn, coll, alias, idx, vid, now, actor)
            return reads.describe(conn, coll, [(idx, vid)])[0]

    # -- versions ---------------------------------------------------------------------------

    def log_version(self, entity: str, project: str, name: str, type_: str, *, digest: str, manifest: dict[str, Any],
                    size: int, description: str | None, metadata: dict[str, Any], aliases: list[str],
                    run_id: str | None, actor: str | None, blobs: list[str]) -> tuple[dict[str, Any], bool]:
        """The version holding ``manifest`` (created, or the existing one with the same digest:
        then False) with ``latest`` and ``aliases`` moved to it. ``blobs``: the stored entries'
        digests, referenced by the version from now on."""
        now = time.time()
        with self.write() as conn:
            run_pk = None
            if run_id is not None:
                run_pk = conn.execute(sa.select(runs.c.pk).where(
                    runs.c.entity == entity, runs.c.project == project, runs.c.run_id == run_id)).scalar()
                if run_pk is None:
                    raise ArtifactNotFound(f"run {_path(entity, project, run_id)} not found: an artifact is logged "
                                           "by a run of its own project (sync the run first)")
            ensure_project(conn, entity, project, actor, now)
            coll = self._collection(conn, entity, project, name, type_=type_, kind="source", actor=actor, now=now,
                                    description=description)
            vid = conn.execute(sa.select(V.id).where(V.collection_id == coll.id, V.digest == digest)).scalar()
            created = vid is None
            if vid is None:
                vid = int(conn.execute(artifact_versions.insert().values(
                    collection_id=coll.id, digest=digest, description=description, metadata=metadata,
                    manifest=manifest, size=size, file_count=len(manifest), run_pk=run_pk, created_at=now,
                    created_by=actor).returning(V.id)).scalar_one())
                idx = self._add_member(conn, coll, vid, now)
                self._reference(conn, vid, blobs, now)
                _event(conn, "artifact_created", coll, idx, vid, now, actor, run_pk, digest=digest, size=size)
            else:
                idx = int(conn.execute(sa.select(M.idx).where(M.collection_id == coll.id, M.version_id == vid))
                          .scalar_one())
            for alias in (LATEST, *aliases):
                self._point(conn, coll, alias, idx, vid, now, actor)
            return reads.describe(conn, coll, [(idx, vid)])[0], created

    def _reference(self, conn: sa.Connection, vid: int, digests: list[str], now: float) -> None:
        """The version's stored entries referenced (gc's count, ``_blobs``); every one must be
        stored by now: one that is not (never uploaded, or freed by gc before this reference) is
        ``MissingBlobs`` and the transaction rolls back."""
        add_refs(conn, digests, ARTIFACT, str(vid), now)
        missing: list[str] = []
        for i in range(0, len(digests), _CHUNK):
            missing += conn.execute(sa.select(blobs.c.digest).where(
                blobs.c.digest.in_(digests[i:i + _CHUNK]), blobs.c.stored.is_(False))).scalars()
        if missing:
            raise MissingBlobs(sorted(missing))

    def delete_version(self, entity: str, project: str, name: str, selector: str, *, delete_aliases: bool,
                       actor: str | None) -> dict[str, Any]:
        """Delete a logged version (everywhere it is linked), or unlink a registry member."""
        now = time.time()
        with self.write() as conn:
            coll = self._collection(conn, entity, project, name, type_=None, kind="", actor=actor, now=now)
            idx, vid = self._member(conn, coll, selector)
            gone = reads.describe(conn, coll, [(idx, vid)])[0]
            if coll.kind == "portfolio":
                conn.execute(artifact_aliases.delete().where(A.collection_id == coll.id, A.version_id == vid))
                conn.execute(artifact_members.delete().where(M.collection_id == coll.id, M.version_id == vid))
                _event(conn, "artifact_unlinked", coll, idx, vid, now, actor)
                self._relatest(conn, [coll.id], now, actor)
                return gone
            held = conn.execute(sa.select(C.entity, C.project, C.name, A.alias).join(
                artifact_collections, C.id == A.collection_id).where(A.version_id == vid, A.alias != LATEST)).all()
            if held and not delete_aliases:
                names = ", ".join(f"{r.entity}/{r.project}/{r.name}:{r.alias}" for r in held[:20])
                raise ArtifactConflict(f"version {_path(entity, project, name)}:v{idx} still has aliases ({names}); "
                                       "remove them first or delete with delete_aliases=True")
            holders = list(conn.execute(sa.select(M.collection_id).where(M.version_id == vid)).scalars())
            drop_refs(conn, ARTIFACT, str(vid))  # gc may free what nothing else holds
            conn.execute(artifact_versions.delete().where(V.id == vid))  # members, aliases, usage cascade
            _event(conn, "artifact_deleted", coll, idx, vid, now, actor, digest=gone["digest"])
            self._relatest(conn, holders, now, actor)
            return gone

    def delete_collection(self, entity: str, project: str, name: str, actor: str | None) -> dict[str, Any]:
        """Delete a collection: a source's versions (and their links elsewhere, their blob
        references), or a registry collection's links (the linked versions stay)."""
        now = time.time()
        with self.write() as conn:
            coll = self._collection(conn, entity, project, name, type_=None, kind="", actor=actor, now=now)
            ids = list(conn.execute(sa.select(M.version_id).where(M.collection_id == coll.id)).scalars())
            holders: list[int] = []
            if coll.kind == "source":
                holders = list(conn.execute(sa.select(M.collection_id).distinct().where(
                    M.version_id.in_(ids), M.collection_id != coll.id)).scalars()) if ids else []
                for vid in ids:
                    drop_refs(conn, ARTIFACT, str(vid))
                conn.execute(artifact_versions.delete().where(V.collection_id == coll.id))
            conn.execute(artifact_collections.delete().where(C.id == coll.id))  # members, aliases cascade
            add_event(conn, "artifact_collection_deleted", None, {
                "entity": entity, "project": project, "name": name, "type": coll.type, "kind": coll.kind,
                "versions": len(ids)}, now, actor)
            self._relatest(conn, holders, now, actor)
            return {**reads.collection_to_api(coll), "version_count": len(ids)}

    # -- registry links and usage -------------------------------------------------------------

    def link_version(self, source: tuple[str, str, str, str], target: tuple[str, str, str], aliases: list[str],
                     actor: str | None) -> dict[str, Any]:
        """Link the source version (entity, project, name, selector) into the registry collection
        ``target`` (created with the source's type if missing), with ``latest`` and ``aliases``."""
        now = time.time()
        with self.write() as conn:
            src = self._collection(conn, *source[:3], type_=None, kind="", actor=actor, now=now)
            _, vid = self._member(conn, src, source[3])
            entity, project, name = target
            ensure_project(conn, entity, project, actor, now)
            coll = self._collection(conn, entity, project, name, type_=src.type, kind="portfolio", actor=actor,
                                    now=now)
            idx = conn.execute(sa.select(M.idx).where(M.collection_id == coll.id, M.version_id == vid)).scalar()
            if idx is None:
                idx = self._add_member(conn, coll, vid, now)
                _event(conn, "artifact_linked", coll, idx, vid, now, actor,
                       source=f"{_path(*source[:3])}:{source[3]}")
            for alias in (LATEST, *aliases):
                self._point(conn, coll, alias, idx, vid, now, actor)
            return reads.describe(conn, coll, [(idx, vid)])[0]

    def use_version(self, artifact: tuple[str, str, str, str], run: tuple[str, str, str],
                    actor: str | None) -> dict[str, Any]:
        """Record that ``run`` (entity, project, run id) used the version: a lineage input."""
        now = time.time()
        with self.write() as conn:
            run_pk = conn.execute(sa.select(runs.c.pk).where(
                runs.c.entity == run[0], runs.c.project == run[1], runs.c.run_id == run[2])).scalar()
            if run_pk is None:
                raise ArtifactNotFound(f"run {_path(*run)} not found; check the entity, project and run id")
            coll = self._collection(conn, *artifact[:3], type_=None, kind="", actor=actor, now=now)
            idx, vid = self._member(conn, coll, artifact[3])
            added = conn.execute(insert_for(conn, artifact_usage).values(version_id=vid, run_pk=run_pk, used_at=now)
                                 .on_conflict_do_nothing(index_elements=[artifact_usage.c.version_id,
                                                                         artifact_usage.c.run_pk])).rowcount
            if added:
                _event(conn, "artifact_used", coll, idx, vid, now, actor, run_pk, run_id=run[2])
            return reads.describe(conn, coll, [(idx, vid)], manifest=True)[0]

    # -- reads ------------------------------------------------------------------------------

    def artifact_version(self, entity: str, project: str, name: str, selector: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return reads.version(conn, entity, project, name, selector)

    def artifact_collections(self, entity: str, project: str, type_: str | None = None) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return reads.collections(conn, entity, project, type_)

    def artifact_versions(self, entity: str, project: str, name: str, after: int = -1,
                          limit: int = 100) -> tuple[dict[str, Any], list[dict[str, Any]], int | None] | None:
        with self.engine.connect() as conn:
            coll = reads.collection_row(conn, entity, project, name)
            if coll is None:
                return None
            page, cursor = reads.versions(conn, coll, after, limit)
            return reads.collection_to_api(coll), page, cursor

    def run_artifacts(self, run_pk: int, direction: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return reads.run_artifacts(conn, run_pk, direction)

    def artifact_users(self, version_id: int) -> list[dict[str, str]]:
        with self.engine.connect() as conn:
            return [p for p in map(reads.run_path, reads.users_of(conn, version_id)) if p is not None]

    def artifact_graph(self, version_id: int, depth: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            found = reads.graph(conn, version_id, depth)
        found["runs"] = {pk: reads.run_path(row) for pk, row in found["runs"].items()}
        return found
