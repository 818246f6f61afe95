"""Blob bookkeeping: which digests the server holds (``blobs``), what references them
(``blob_refs``, the reference count gc reads) and each run's files (``run_files``).

``add_refs``/``drop_refs`` take the caller's connection: a reference is added or dropped in the
same transaction as the row that needs the blob (a run file here, an artifact manifest in the
artifacts store). See migration 0007 for the protocol and how it closes gc's race.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa

from trackwell.store.metadata._database import Database
from trackwell.store.metadata._summaries import insert_for
from trackwell.store.metadata._tables import blob_refs, blobs, run_files, runs

_B, _R, _F = blobs.c, blob_refs.c, run_files.c
RUN = "run"  # blob_refs.kind of run files; owner: str(run_pk)
_CHUNK = 500  # names or digests per IN (...) list


class BlobRow(NamedTuple):
    digest: str
    size: int | None
    stored: bool
    touched_at: float


class RunFile(NamedTuple):
    name: str
    digest: str
    size: int
    updated_at: float
    stored: bool  # False until the bytes are uploaded (the record naming them can come first)


def add_refs(conn: sa.Connection, digests: Iterable[str], kind: str, owner: str, now: float | None = None) -> None:
    """Reference each of ``digests`` from ``(kind, owner)``; a digest the server does not hold yet
    gets a ``blobs`` row waiting for its bytes."""
    now = time.time() if now is None else now
    wanted = sorted(set(digests))
    if not wanted:
        return
    # executemany with one cached statement: a VALUES list of 10,000 rows took ~0.5 s to compile
    conn.execute(insert_for(conn, blobs).on_conflict_do_nothing(index_elements=["digest"]),
                 [{"digest": d, "size": None, "stored": False, "created_at": now, "touched_at": now} for d in wanted])
    conn.execute(insert_for(conn, blob_refs).on_conflict_do_nothing(index_elements=["digest", "kind", "owner"]),
                 [{"digest": d, "kind": kind, "owner": owner, "created_at": now} for d in wanted])


def drop_refs(conn: sa.Connection, kind: str, owner: str, digests: Iterable[str] | None = None) -> None:
    """Drop ``(kind, owner)``'s references: all of them, or those to ``digests``."""
    where = sa.and_(_R.kind == kind, _R.owner == owner)
    if digests is not None:
        where = sa.and_(where, _R.digest.in_(sorted(set(digests))))
    conn.execute(blob_refs.delete().where(where))


def _live_ref() -> sa.ColumnElement[bool]:
    """A ``blob_refs`` row whose owner is still there (a run reference: its run exists)."""
    run_exists = sa.select(runs.c.pk).where(sa.cast(runs.c.pk, sa.String) == _R.owner).exists()
    return sa.or_(_R.kind != RUN, run_exists)


def put_run_file(conn: sa.Connection, run_pk: int, name: str, digest: str, size: int, now: float) -> None:
    """Name ``digest`` as the run's file ``name`` (a newer save of the name replaces it)."""
    put_run_files(conn, run_pk, {name: (digest, size)}, now)


def put_run_files(conn: sa.Connection, run_pk: int, files: dict[str, tuple[str, int]], now: float) -> None:
    """``put_run_file`` for many names at once: a few statements, however many files (a batch of
    FileSaved records)."""
    if not files:
        return
    old: dict[str, str] = {}
    names = sorted(files)
    for i in range(0, len(names), _CHUNK):
        some = names[i:i + _CHUNK]
        old.update((row.name, row.digest) for row in conn.execute(
            sa.select(_F.name, _F.digest).where(_F.run_pk == run_pk, _F.name.in_(some))))
    stmt = insert_for(conn, run_files)
    stmt = stmt.on_conflict_do_update(index_elements=["run_pk", "name"], set_={
        "digest": stmt.excluded.digest, "size": stmt.excluded.size, "updated_at": stmt.excluded.updated_at})
    conn.execute(stmt, [{"run_pk": run_pk, "name": n, "digest": d, "size": s, "updated_at": now}
                        for n, (d, s) in files.items()])
    add_refs(conn, [d for d, _ in files.values()], RUN, str(run_pk), now)
    replaced = sorted({d for n, d in old.items() if d != files[n][0]})
    if replaced:
        _release_unused(conn, run_pk, replaced)


def _release_unused(conn: sa.Connection, run_pk: int, digests: Sequence[str]) -> None:
    """Drop the run's references to those of ``digests`` none of its files names any more."""
    still: set[str] = set()
    for i in range(0, len(digests), _CHUNK):
        still.update(conn.execute(sa.select(_F.digest).where(_F.run_pk == run_pk,
                                                             _F.digest.in_(digests[i:i + _CHUNK]))).scalars())
    drop_refs(conn, RUN, str(run_pk), [d for d in digests if d not in still])


class SqlBlobIndex(Database):
    """The ``BlobIndex`` of ``_interfaces`` on SQL."""

    def blob(self, digest: str) -> BlobRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_B.digest, _B.size, _B.stored, _B.touched_at)
                               .where(_B.digest == digest)).first()
        return None if row is None else BlobRow(row.digest, row.size, bool(row.stored), row.touched_at)

    def touch_blob(self, digest: str, now: float) -> bool:
        """Note that a client was told the blob is here (it may skip uploading it and reference
        it next): gc then spares it for its grace period. True when the bytes are stored."""
        with self.write() as conn:
            done = conn.execute(blobs.update().where(_B.digest == digest, _B.stored.is_(True))
                                .values(touched_at=now)).rowcount
        return bool(done)

    def touch_blobs(self, digests: Sequence[str], now: float) -> set[str]:
        """``touch_blob`` for many digests in one transaction; returns those whose bytes are stored."""
        stored: set[str] = set()
        with self.write() as conn:
            for i in range(0, len(digests), 500):
                stored.update(conn.execute(blobs.update().where(_B.digest.in_(digests[i:i + 500]), _B.stored.is_(True))
                                           .values(touched_at=now).returning(_B.digest)).scalars())
        return stored

    def blob_stored(self, digest: str, size: int, now: float) -> None:
        """The bytes of ``digest`` are in the blob store."""
        self.blobs_stored([(digest, size)], now)

    def blobs_stored(self, stored: Sequence[tuple[str, int]], now: float) -> None:
        """The bytes of each ``(digest, size)`` are in the blob store (one transaction)."""
        if not stored:
            return
        with self.write() as conn:
            stmt = insert_for(conn, blobs)
            stmt = stmt.on_conflict_do_update(index_elements=["digest"], set_={
                "size": stmt.excluded.size, "stored": True, "touched_at": stmt.excluded.touched_at})
            rows = {d: {"digest": d, "size": s, "stored": True, "created_at": now, "touched_at": now} for d, s in stored}
            conn.execute(stmt, list(rows.values()))

    def run_files(self, run_pk: int) -> list[RunFile]:
        with self.engine.connect() as conn:
            rows = conn.execute(self._files().where(_F.run_pk == run_pk).order_by(_F.name)).all()
        return [RunFile(r.name, r.digest, r.size, r.updated_at, bool(r.stored)) for r in rows]

    def run_file(self, run_pk: int, name: str) -> RunFile | None:
        with self.engine.connect() as conn:
            r = conn.execute(self._files().where(_F.run_pk == run_pk, _F.name == name)).first()
        return None if r is None else RunFile(r.name, r.digest, r.size, r.updated_at, bool(r.stored))

    @staticmethod
    def _files() -> sa.Select[Any]:
        return (sa.select(_F.name, _F.digest, _F.size, _F.updated_at, sa.func.coalesce(_B.stored, False).label("stored"))
                .select_from(run_files.outerjoin(blobs, _B.digest == _F.digest)))

    def delete_run_file(self, run_pk: int, name: str) -> bool:
        with self.write() as conn:
            digest = conn.execute(sa.delete(run_files).where(_F.run_pk == run_pk, _F.name == name)
                                  .returning(_F.digest)).scalar()
            if digest is not None:
                _release_unused(conn, run_pk, [digest])
        return digest is not None

    def unreferenced_blobs(self, touched_before: float) -> list[BlobRow]:
        """Blobs no reference names, not touched since ``touched_before``: what gc may free. A
        run's reference counts while the run exists (a deleted run's rows cascade away; its
        references, which name it by text, die with it)."""
        referenced = sa.select(_R.digest).where(_R.digest == _B.digest, _live_ref()).exists()
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(_B.digest, _B.size, _B.stored, _B.touched_at)
                                .where(~referenced, _B.touched_at < touched_before).order_by(_B.digest)).all()
        return [BlobRow(r.digest, r.size, bool(r.stored), r.touched_at) for r in rows]

    def known_digests(self, digests: Sequence[str]) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(_B.digest).where(_B.digest.in_(digests))).scalars())

    def forget_blob(self, digest: str, touched_before: float) -> bool:
        """Delete the blob's row if it is still unreferenced and untouched: gc's commit point.
        A reference added meanwhile wins (the delete matches nothing, or its foreign key fails)."""
        referenced = sa.select(_R.digest).where(_R.digest == digest).exists()
        try:
            with self.write() as conn:
                conn.execute(blob_refs.delete().where(_R.digest == digest, ~_live_ref()))
                gone = conn.execute(blobs.delete().where(_B.digest == digest, _B.touched_at < touched_before,
                                                         ~referenced)).rowcount
        except sa.exc.IntegrityError:
            return False
        return bool(gone)
