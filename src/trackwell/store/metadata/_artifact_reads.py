"""Artifact reads: resolving ``name:vN`` / ``name:alias``, a version as the API shows it,
collections and their versions, and lineage (who logged a version, who used it)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from trackwell.schema.artifacts import version_index
from trackwell.store.metadata._artifact_tables import (
    artifact_aliases,
    artifact_collections,
    artifact_members,
    artifact_usage,
    artifact_versions,
)
from trackwell.store.metadata._tables import runs

C, V, M, A, U = (artifact_collections.c, artifact_versions.c, artifact_members.c, artifact_aliases.c,
                 artifact_usage.c)
MAX_LIST = 1000


def collection_row(conn: sa.Connection, entity: str, project: str, name: str) -> Any:
    return conn.execute(sa.select(artifact_collections).where(
        C.entity == entity, C.project == project, C.name == name)).first()


def member_of(conn: sa.Connection, collection_id: int, selector: str) -> tuple[int, int] | None:
    """(index, version id) that ``selector`` (``vN`` or an alias) names in the collection."""
    idx = version_index(selector)
    if idx is not None:
        row = conn.execute(sa.select(M.idx, M.version_id).where(M.collection_id == collection_id, M.idx == idx)).first()
    else:
        row = conn.execute(sa.select(M.idx, M.version_id).join(
            artifact_aliases, sa.and_(A.collection_id == M.collection_id, A.version_id == M.version_id)).where(
            A.collection_id == collection_id, A.alias == selector)).first()
    return None if row is None else (int(row.idx), int(row.version_id))


def collection_to_api(row: Any) -> dict[str, Any]:
    return {"entity": row.entity, "project": row.project, "name": row.name, "type": row.type, "kind": row.kind,
            "description": row.description, "created_at": row.created_at, "created_by": row.created_by,
            "version_count": None}


def run_path(row: Any) -> dict[str, str] | None:
    return None if row is None else {"entity": row.entity, "project": row.project, "run_id": row.run_id}


def describe(conn: sa.Connection, coll: Any, members: list[tuple[int, int]], manifest: bool = False) -> list[dict[str, Any]]:
    """Versions ``members`` ((index, version id) in ``coll``) as the API shows them, in that order."""
    if not members:
        return []
    ids = [vid for _, vid in members]
    source = artifact_collections.alias("source")
    cols = [V.id, V.digest, V.description, V.metadata, V.size, V.file_count, V.created_at, V.created_by,
            source.c.entity.label("s_entity"), source.c.project.label("s_project"), source.c.name.label("s_name"),
            source.c.id.label("s_id"), runs.c.entity.label("r_entity"), runs.c.project.label("r_project"),
            runs.c.run_id.label("r_run_id")]
    if manifest:
        cols.append(V.manifest)
    q = (sa.select(*cols).select_from(artifact_versions.join(source, source.c.id == V.collection_id)
                                      .outerjoin(runs, runs.c.pk == V.run_pk)).where(V.id.in_(ids)))
    found = {r.id: r for r in conn.execute(q)}
    aliases: dict[int, list[str]] = defaultdict(list)
    for r in conn.execute(sa.select(A.version_id, A.alias).where(A.collection_id == coll.id, A.version_id.in_(ids))
                          .order_by(A.alias)):
        aliases[r.version_id].append(r.alias)
    source_idx = {(r.collection_id, r.version_id): r.idx for r in conn.execute(
        sa.select(M.collection_id, M.version_id, M.idx).join(artifact_versions, sa.and_(
            V.id == M.version_id, V.collection_id == M.collection_id)).where(M.version_id.in_(ids)))}
    out = []
    for idx, vid in members:
        r = found[vid]
        item = {
            "id": vid, "entity": coll.entity, "project": coll.project, "name": coll.name, "type": coll.type,
            "version": f"v{idx}", "index": idx, "digest": r.digest, "description": r.description,
            "metadata": r.metadata, "size": r.size, "file_count": r.file_count, "aliases": aliases.get(vid, []),
            "created_at": r.created_at, "created_by": r.created_by,
            "source": {"entity": r.s_entity, "project": r.s_project, "name": r.s_name,
                       "version": f"v{source_idx.get((r.s_id, vid))}"},
            "logged_by": None if r.r_run_id is None else {"entity": r.r_entity, "project": r.r_project,
                                                          "run_id": r.r_run_id},
        }
        if manifest:
            item["manifest"] = r.manifest
        out.append(item)
    return out


def version(conn: sa.Connection, entity: str, project: str, name: str, selector: str,
            manifest: bool = True) -> dict[str, Any] | None:
    coll = collection_row(conn, entity, project, name)
    if coll is None:
        return None
    found = member_of(conn, coll.id, selector)
    return None if found is None else describe(conn, coll, [found], manifest)[0]


def collections(conn: sa.Connection, entity: str, project: str, type_: str | None) -> list[dict[str, Any]]:
    q = sa.select(artifact_collections).where(C.entity == entity, C.project == project).order_by(C.name).limit(MAX_LIST)
    if type_:
        q = q.where(C.type == type_)
    rows = conn.execute(q).all()
    counts: dict[int, int] = dict(conn.execute(sa.select(M.collection_id, sa.func.count()).where(
        M.collection_id.in_([r.id for r in rows])).group_by(M.collection_id)).all()) if rows else {}
    return [{**collection_to_api(r), "version_count": int(counts.get(r.id, 0))} for r in rows]


def versions(conn: sa.Connection, coll: Any, after: int, limit: int) -> tuple[list[dict[str, Any]], int | None]:
    """One page of the collection's versions by index (``after``: the last index seen, -1 first)."""
    rows = conn.execute(sa.select(M.idx, M.version_id).where(M.collection_id == coll.id, M.idx > after)
                        .order_by(M.idx).limit(limit + 1)).all()
    page = [(int(r.idx), int(r.version_id)) for r in rows[:limit]]
    return describe(conn, coll, page), (page[-1][0] if len(rows) > limit else None)


def in_source(conn: sa.Connection, version_ids: list[int]) -> list[dict[str, Any]]:
    """Versions by id, each as its source collection shows it."""
    if not version_ids:
        return []
    rows = conn.execute(sa.select(M.idx, M.version_id, M.collection_id).join(artifact_versions, sa.and_(
        V.id == M.version_id, V.collection_id == M.collection_id)).where(M.version_id.in_(version_ids))).all()
    by_coll: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for r in rows:
        by_coll[r.collection_id].append((int(r.idx), int(r.version_id)))
    out: dict[int, dict[str, Any]] = {}
    for coll_id, members in by_coll.items():
        coll = conn.execute(sa.select(artifact_collections).where(C.id == coll_id)).one()
        out.update({item["id"]: item for item in describe(conn, coll, members)})
    return [out[v] for v in version_ids if v in out]


def run_artifacts(conn: sa.Connection, run_pk: int, direction: str) -> list[dict[str, Any]]:
    """The versions a run logged (``direction="logged"``) or used (``"used"``), oldest first."""
    return in_source(conn, versions_of_run(conn, run_pk, direction))


def users_of(conn: sa.Connection, version_id: int) -> list[Any]:
    """The runs (rows with entity, project, run_id) that used the version."""
    return list(conn.execute(sa.select(runs.c.pk, runs.c.entity, runs.c.project, runs.c.run_id).join(
        artifact_usage, U.run_pk == runs.c.pk).where(U.version_id == version_id).order_by(U.used_at)
        .limit(MAX_LIST)).all())


def producer_of(conn: sa.Connection, version_id: int) -> Any:
    return conn.execute(sa.select(runs.c.pk, runs.c.entity, runs.c.project, runs.c.run_id).join(
        artifact_versions, V.run_pk == runs.c.pk).where(V.id == version_id)).first()


def versions_of_run(conn: sa.Connection, run_pk: int, direction: str) -> list[int]:
    q = (sa.select(V.id).where(V.run_pk == run_pk).order_by(V.id) if direction == "logged"
         else sa.select(U.version_id).where(U.run_pk == run_pk).order_by(U.used_at, U.version_id))
    return list(conn.execute(q.limit(MAX_LIST)).scalars())


def graph(conn: sa.Connection, version_id: int, depth: int) -> dict[str, Any]:
    """The lineage around a version, ``depth`` run hops each way: nodes (versions by id, runs by
    pk) and edges (run -> version it logged, version -> run that used it)."""
    versions_seen, runs_seen = {version_id}, {}
    edges: set[tuple[str, str]] = set()
    frontier = {version_id}
    for _ in range(depth):
        found: set[int] = set()
        for vid in frontier:
            producer = producer_of(conn, vid)
            if producer is not None:
                runs_seen[producer.pk] = producer
                edges.add((f"run:{producer.pk}", f"artifact:{vid}"))
                for used in versions_of_run(conn, producer.pk, "used"):
                    edges.add((f"artifact:{used}", f"run:{producer.pk}"))
                    found.add(used)
            for user in users_of(conn, vid):
                runs_seen[user.pk] = user
                edges.add((f"artifact:{vid}", f"run:{user.pk}"))
                for logged in versions_of_run(conn, user.pk, "logged"):
                    edges.add((f"run:{user.pk}", f"artifact:{logged}"))
                    found.add(logged)
        frontier = found - versions_seen
        versions_seen |= found
    return {"artifacts": in_source(conn, sorted(versions_seen)), "runs": runs_seen, "edges": sorted(edges)}
