"""The reference count (migration 0007) on SQLite and PostgreSQL: run files reference their
blobs, references come and go in the owner's transaction, and gc's commit point loses to a
reference added meanwhile."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from trackwell.store.metadata import RUN, MetadataStore, add_refs, drop_refs
from trackwell.store.metadata._blobs import put_run_file


def fresh() -> tuple[str, str, str]:
    """Three digests no other test uses (the PostgreSQL database is shared by the session)."""
    return uuid.uuid4().hex * 2, uuid.uuid4().hex * 2, uuid.uuid4().hex * 2


@pytest.fixture
def store(db_url: str) -> Iterator[MetadataStore]:
    made = MetadataStore(db_url)
    yield made
    made.close()


def new_run(store: MetadataStore) -> int:
    return store.ensure_run("team", f"p-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex[:8])


def test_run_files_reference_their_blobs(store: MetadataStore) -> None:
    A, B, C = fresh()
    pk = new_run(store)
    with store.write() as conn:
        put_run_file(conn, pk, "model.pt", A, 10, now=100.0)
        put_run_file(conn, pk, "copy.pt", A, 10, now=100.0)  # same bytes, second name
        put_run_file(conn, pk, "log.txt", B, 5, now=100.0)
    files = store.run_files(pk)
    assert [(f.name, f.digest, f.stored) for f in files] == [("copy.pt", A, False), ("log.txt", B, False),
                                                              ("model.pt", A, False)]
    store.blob_stored(A, 10, now=101.0)
    assert store.run_file(pk, "model.pt").stored is True  # type: ignore[union-attr]
    # neither is collectable: both referenced, however old
    assert [r.digest for r in store.unreferenced_blobs(touched_before=1e12) if r.digest in (A, B)] == []
    assert store.delete_run_file(pk, "model.pt")
    assert A not in {r.digest for r in store.unreferenced_blobs(1e12)}  # "copy.pt" still names A
    assert store.delete_run_file(pk, "copy.pt") and not store.delete_run_file(pk, "copy.pt")
    assert A in {r.digest for r in store.unreferenced_blobs(1e12)}
    # a newer save of a name moves the reference to the new bytes
    with store.write() as conn:
        put_run_file(conn, pk, "log.txt", C, 7, now=102.0)
    gone = {r.digest for r in store.unreferenced_blobs(1e12)}
    assert B in gone and C not in gone


def test_gc_commit_point(store: MetadataStore) -> None:
    A, B, C = fresh()
    store.blob_stored(A, 3, now=100.0)
    assert store.touch_blob(A, now=100.0) and not store.touch_blob(C, now=100.0)
    assert not store.forget_blob(A, touched_before=50.0)  # touched within the grace period
    with store.write() as conn:
        add_refs(conn, [A], "artifact", "7")
    assert not store.forget_blob(A, touched_before=1e12)  # referenced
    with store.write() as conn:
        drop_refs(conn, "artifact", "7")
    assert store.forget_blob(A, touched_before=1e12)
    assert store.blob(A) is None


def test_refs_are_per_owner(store: MetadataStore) -> None:
    A, B, C = fresh()
    with store.write() as conn:
        add_refs(conn, [A, B, A], "artifact", "1")
        add_refs(conn, [B], "artifact", "2")
        add_refs(conn, [B], RUN, "99")
        drop_refs(conn, "artifact", "1", [A])
    unreferenced = {r.digest for r in store.unreferenced_blobs(1e12)}
    assert A in unreferenced and B not in unreferenced
    assert store.blob(A) == (A, None, False, store.blob(A).touched_at)  # type: ignore[union-attr]


def test_a_deleted_runs_references_die_with_it(store: MetadataStore) -> None:
    import sqlalchemy as sa

    from trackwell.store.metadata._tables import runs

    digest = fresh()[0]
    pk = new_run(store)
    with store.write() as conn:
        put_run_file(conn, pk, "weights.bin", digest, 9, now=100.0)
    store.blob_stored(digest, 9, now=100.0)
    assert digest not in {r.digest for r in store.unreferenced_blobs(1e12)}
    with store.write() as conn:  # however a run is deleted: its rows cascade, its references dangle
        conn.execute(sa.delete(runs).where(runs.c.pk == pk))
    assert digest in {r.digest for r in store.unreferenced_blobs(1e12)}
    assert store.forget_blob(digest, touched_before=1e12) and store.blob(digest) is None


def test_gc_loses_to_a_reference_committed_while_it_deletes(store: MetadataStore) -> None:
    """A reference being committed while gc deletes the blob's row: gc waits for it and then
    frees nothing (SQLite: the write lock; PostgreSQL: the row lock, then the foreign key)."""
    import threading
    import time

    digest = fresh()[0]
    store.blob_stored(digest, 5, now=100.0)
    referenced, result = threading.Event(), []
    with store.write() as conn:
        add_refs(conn, [digest], "artifact", "race")

        def collect() -> None:
            referenced.set()
            result.append(store.forget_blob(digest, touched_before=1e12))

        gc = threading.Thread(target=collect)
        gc.start()
        referenced.wait()
        time.sleep(0.3)  # gc is now waiting on this open transaction
    gc.join(30)
    assert result == [False] and store.blob(digest) is not None
