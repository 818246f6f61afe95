"""The artifact store on SQLite and PostgreSQL: concurrent writers of one collection, alias moves,
outbox events in the change's transaction, blob references for gc."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from trackwell.schema.artifacts import Entry, manifest_digest
from trackwell.store.metadata import ArtifactConflict, MetadataStore, MissingBlobs
from trackwell.store.metadata._tables import blob_refs


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataStore]:
    url = (f"sqlite:///{tmp_path / 'trackwell.db'}" if request.param == "sqlite"
           else str(request.getfixturevalue("postgres_url")))
    opened = MetadataStore(url)
    yield opened
    opened.close()


@pytest.fixture
def project() -> str:
    return f"proj-{uuid.uuid4().hex[:8]}"


def blob(store: MetadataStore, text: str) -> tuple[str, int]:
    data = text.encode()
    digest = hashlib.sha256(data).hexdigest()
    store.blob_stored(digest, len(data), time.time())
    return digest, len(data)


def log(store: MetadataStore, project: str, name: str, files: dict[str, str], aliases: list[str] = (),
        run_id: str | None = None, kind: str = "dataset") -> tuple[dict[str, Any], bool]:
    entries = {path: Entry(*blob(store, text)) for path, text in files.items()}
    manifest = {p: {"digest": e.digest, "size": e.size} for p, e in entries.items()}
    return store.log_version("team", project, name, kind, digest=manifest_digest(entries), manifest=manifest,
                             size=sum(e.size for e in entries.values()), description=None, metadata={},
                             aliases=list(aliases), run_id=run_id, actor="alice",
                             blobs=sorted({e.digest for e in entries.values()}))


def events(store: MetadataStore, since: int) -> list[tuple[str, dict[str, Any]]]:
    return [(e["kind"], e["payload"]) for e in store.events(after_id=since) if e["kind"].startswith("artifact")]


def last_event(store: MetadataStore) -> int:
    found = store.events(after_id=0, limit=100_000)
    return found[-1]["id"] if found else 0


def test_two_writers_of_one_collection(store: MetadataStore, project: str) -> None:
    """Eight threads log 40 contents (each twice, racing) to one collection: every content is
    one version, numbers run v0..v39 without a gap or a duplicate, and ``latest`` is on one."""
    contents = [f"content {i}" for i in range(40)]
    got: dict[str, set[str]] = {c: set() for c in contents}
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            for i in range(len(contents)):
                text = contents[(i + offset) % len(contents)]
                found, _ = log(store, project, "shared", {"f.txt": text}, aliases=[f"w{offset}"])
                got[text].add(found["version"])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k % 4 * 10,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert all(len(v) == 1 for v in got.values()), got
    versions = sorted(int(next(iter(v))[1:]) for v in got.values())
    assert versions == list(range(40))
    _, page, _ = store.artifact_versions("team", project, "shared", limit=1000)
    assert sum("latest" in v["aliases"] for v in page) == 1
    for k in range(4):  # each writer's alias is on exactly one version
        assert sum(f"w{k * 10}" in v["aliases"] for v in page) == 1


def test_events_aliases_and_dedup(store: MetadataStore, project: str) -> None:
    since = last_event(store)
    v0, created = log(store, project, "m", {"a": "1"}, aliases=["prod"])
    assert created and v0["version"] == "v0" and sorted(v0["aliases"]) == ["latest", "prod"]
    again, created = log(store, project, "m", {"a": "1"})
    assert not created and again["version"] == "v0"
    v1, _ = log(store, project, "m", {"a": "2"})
    assert store.artifact_version("team", project, "m", "prod")["version"] == "v0"
    assert store.artifact_version("team", project, "m", "latest")["version"] == "v1"
    kinds = [(k, p["version"], p.get("alias")) for k, p in events(store, since)]
    assert kinds == [("artifact_created", "v0", None), ("artifact_alias_added", "v0", "latest"),
                     ("artifact_alias_added", "v0", "prod"), ("artifact_created", "v1", None),
                     ("artifact_alias_added", "v1", "latest")]
    since = last_event(store)
    store.set_aliases("team", project, "m", "v1", ["latest", "prod"], "bob")
    assert events(store, since) == [("artifact_alias_added", {**events(store, since)[0][1], "alias": "prod"})]
    since = last_event(store)
    store.set_aliases("team", project, "m", "v1", ["latest"], "bob")
    assert [(k, p["alias"]) for k, p in events(store, since)] == [("artifact_alias_removed", "prod")]
    with pytest.raises(ArtifactConflict, match="latest"):
        store.set_aliases("team", project, "m", "v0", ["latest"], "bob")
    with pytest.raises(ArtifactConflict, match="type 'dataset'"):
        log(store, project, "m", {"a": "3"}, kind="model")


def test_registry_links_and_unlink(store: MetadataStore, project: str) -> None:
    log(store, project, "m", {"a": "1"})
    log(store, project, "m", {"a": "2"})
    since = last_event(store)
    reg = f"reg-{project}"
    first = store.link_version(("team", project, "m", "v1"), ("team", reg, "best"), ["staging"], "alice")
    assert (first["version"], first["source"]["version"], sorted(first["aliases"])) == ("v0", "v1",
                                                                                      ["latest", "staging"])
    again = store.link_version(("team", project, "m", "v1"), ("team", reg, "best"), [], "alice")
    assert again["version"] == "v0"  # linking twice is one link
    second = store.link_version(("team", project, "m", "v0"), ("team", reg, "best"), [], "alice")
    assert second["version"] == "v1"
    assert [k for k, _ in events(store, since)].count("artifact_linked") == 2
    with pytest.raises(ArtifactConflict, match="registry collection"):
        log(store, reg, "best", {"a": "9"})
    store.delete_version("team", reg, "best", "v1", delete_aliases=False, actor="alice")  # unlink
    assert store.artifact_version("team", reg, "best", "latest")["source"]["version"] == "v1"
    assert store.artifact_version("team", project, "m", "v0") is not None  # the source stays
    assert "artifact_unlinked" in [k for k, _ in events(store, since)]


def test_blob_references_follow_versions(store: MetadataStore, project: str) -> None:
    found, _ = log(store, project, "refs", {"a": "shared bytes", "b": "own bytes"})
    other, _ = log(store, project, "refs2", {"c": "shared bytes"})
    shared = hashlib.sha256(b"shared bytes").hexdigest()
    own = hashlib.sha256(b"own bytes").hexdigest()

    def owners(digest: str) -> set[str]:
        with store.engine.connect() as conn:
            return set(conn.execute(sa.select(blob_refs.c.owner).where(blob_refs.c.digest == digest,
                                                                         blob_refs.c.kind == "artifact")).scalars())

    assert owners(shared) == {str(found["id"]), str(other["id"])} and owners(own) == {str(found["id"])}
    store.delete_version("team", project, "refs", "v0", delete_aliases=False, actor="alice")
    assert owners(shared) == {str(other["id"])} and owners(own) == set()
    assert own in {b.digest for b in store.unreferenced_blobs(time.time() + 1)}
    assert shared not in {b.digest for b in store.unreferenced_blobs(time.time() + 1)}


def test_a_version_needs_its_blobs(store: MetadataStore, project: str) -> None:
    digest = hashlib.sha256(b"never uploaded").hexdigest()
    entries = {"x": Entry(digest, 14)}
    with pytest.raises(MissingBlobs) as caught:
        store.log_version("team", project, "m", "dataset", digest=manifest_digest(entries),
                          manifest={"x": {"digest": digest, "size": 14}}, size=14, description=None, metadata={},
                          aliases=[], run_id=None, actor="alice", blobs=[digest])
    assert caught.value.digests == [digest]
    assert store.artifact_collections("team", project) == []  # rolled back whole


def test_deleting_a_collection(store: MetadataStore, project: str) -> None:
    log(store, project, "gone", {"a": "x1"})
    kept, _ = log(store, project, "kept", {"a": "x2"})
    v1, _ = log(store, project, "gone", {"a": "x3"})
    reg = f"reg-{project}"
    store.link_version(("team", project, "gone", "v1"), ("team", reg, "best"), ["prod"], "alice")
    store.link_version(("team", project, "kept", "v0"), ("team", reg, "best"), [], "alice")
    since = last_event(store)
    assert store.delete_collection("team", project, "gone", "alice")["version_count"] == 2
    assert store.artifact_versions("team", project, "gone") is None
    assert [(k, p["versions"]) for k, p in events(store, since) if k == "artifact_collection_deleted"] == [
        ("artifact_collection_deleted", 2)]
    linked = store.artifact_version("team", reg, "best", "latest")
    assert linked is not None and linked["id"] == kept["id"]  # its link to "gone" went with it
    assert store.artifact_version("team", reg, "best", "prod") is None
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(blob_refs).where(blob_refs.c.owner == str(v1["id"]),
                                                       blob_refs.c.kind == "artifact")).first() is None
    store.delete_collection("team", reg, "best", "alice")  # a registry: its links only
    assert store.artifact_version("team", project, "kept", "v0") is not None
