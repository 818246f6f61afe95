"""Artifacts end to end through a real server: log, version, dedup, aliases, use, download."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from servers import http

import trackwell
from trackwell.api import Api, ArtifactNotFoundError


def start(project: str, tmp_path: Path, **kw: object) -> trackwell.Run:
    return trackwell.init(project=project, dir=str(tmp_path), settings={"quiet": True, "console": "off"},
                          reinit=True, **kw)


def dataset(tmp_path: Path, tag: str) -> Path:
    root = tmp_path / f"data-{tag}"
    (root / "sub").mkdir(parents=True, exist_ok=True)
    (root / "a.txt").write_text(f"alpha {tag}\n")
    (root / "sub" / "b.bin").write_bytes(bytes(range(250)) * 4 + tag.encode())
    return root


def test_log_versions_dedup_aliases_and_download(online, tmp_path: Path, project: str) -> None:
    run = start(project, tmp_path)
    art = trackwell.Artifact("mnist", "dataset", description="digits", metadata={"rows": 3})
    art.add_dir(dataset(tmp_path, "one"))
    with art.new_file("notes/readme.md") as f:
        f.write("hello")
    logged = run.log_artifact(art, aliases=["best"])
    assert logged.wait(30).version == "v0"
    assert sorted(logged.aliases) == ["best", "latest"]

    again = trackwell.Artifact("mnist", "dataset")  # the same files: the same version
    again.add_dir(dataset(tmp_path, "one"))
    with again.new_file("notes/readme.md") as f:
        f.write("hello")
    assert again.digest == art.digest
    assert run.log_artifact(again).wait(30).version == "v0"

    second = trackwell.Artifact("mnist", "dataset")
    second.add_dir(dataset(tmp_path, "two"))
    assert run.log_artifact(second, aliases=["best"]).wait(30).version == "v1"
    run.finish()

    api = Api()
    v0 = api.artifact(f"{project}/mnist:v0")
    assert v0.aliases == []  # best and latest moved to v1
    assert sorted(api.artifact(f"{project}/mnist:best").aliases) == ["best", "latest"]
    assert [v.version for v in api.artifact_versions("dataset", f"{project}/mnist")] == ["v0", "v1"]
    assert v0.metadata == {"rows": 3} and v0.description == "digits"

    root = Path(v0.download(tmp_path / "dl"))
    assert (root / "a.txt").read_text() == "alpha one\n"
    assert (root / "notes" / "readme.md").read_text() == "hello"
    v0.verify(root)
    (root / "a.txt").write_text("tampered")
    with pytest.raises(ValueError, match="a.txt: contents differ"):
        v0.verify(root)
    assert v0.get_entry("sub/b.bin").size == 1003

    collections = api.artifact_collections(project)
    assert [(c["name"], c["type"], c["version_count"]) for c in collections] == [("mnist", "dataset", 2)]


def test_use_artifact_records_lineage(online, tmp_path: Path, project: str) -> None:
    producer = start(project, tmp_path)
    art = trackwell.Artifact("model", "model")
    with art.new_file("weights.bin", mode="wb") as f:
        f.write(b"\x00" * 5000)
    producer.log_artifact(art).wait(30)
    producer.finish()

    consumer = start(project, tmp_path)
    used = consumer.use_artifact("model:latest", type="model")
    assert used.version == "v0"
    path = Path(used.download()) / "weights.bin"
    assert path.read_bytes() == b"\x00" * 5000
    consumer.finish()

    api = Api()
    version = api.artifact(f"{project}/model:v0")
    assert version.logged_by().id == producer.id
    assert [r.id for r in version.used_by()] == [consumer.id]
    assert [a.name for a in api.run(f"{project}/{consumer.id}").used_artifacts()] == ["model"]
    assert [a.version for a in api.run(f"{project}/{producer.id}").logged_artifacts()] == ["v0"]


def test_aliases_save_and_delete(online, tmp_path: Path, project: str) -> None:
    run = start(project, tmp_path)
    for i in range(3):
        art = trackwell.Artifact("ckpt", "model")
        with art.new_file("w.txt") as f:
            f.write(str(i))
        run.log_artifact(art).wait(30)
    run.finish()
    api = Api()
    v1 = api.artifact(f"{project}/ckpt:v1")
    v1.aliases = [*v1.aliases, "prod"]
    v1.save()
    assert api.artifact(f"{project}/ckpt:prod").version == "v1"
    v0 = api.artifact(f"{project}/ckpt:v0")
    v0.aliases = ["prod"]  # moves prod from v1 to v0
    v0.save()
    assert api.artifact(f"{project}/ckpt:prod").version == "v0"
    assert api.artifact(f"{project}/ckpt:v1").aliases == []
    with pytest.raises(Exception, match="still has aliases"):
        v0.delete()
    v0.delete(delete_aliases=True)
    with pytest.raises(ArtifactNotFoundError):
        api.artifact(f"{project}/ckpt:v0")
    latest = api.artifact(f"{project}/ckpt:latest")
    latest.delete()  # latest moves back to v1
    assert api.artifact(f"{project}/ckpt:latest").version == "v1"
    assert api.delete_artifact_collection(f"{project}/ckpt")["version_count"] == 1
    with pytest.raises(ArtifactNotFoundError):
        api.artifact(f"{project}/ckpt:v1")


def test_deleting_a_version_lets_gc_free_exactly_its_own_bytes(online, tmp_path: Path, project: str) -> None:
    gc = f"{online.url}/api/v1/admin/gc"
    http.post(gc, json={"grace_seconds": 0})  # whatever earlier tests left unreferenced
    run = start(project, tmp_path)
    shared, own = b"shared by two versions" * 100, b"only in the first" * 100
    first = trackwell.Artifact("gc", "dataset")
    for name, data in (("shared.bin", shared), ("own.bin", own)):
        with first.new_file(name, mode="wb") as f:
            f.write(data)
    run.log_artifact(first).wait(30)
    second = trackwell.Artifact("gc", "dataset")
    with second.new_file("shared.bin", mode="wb") as f:
        f.write(shared)
    run.log_artifact(second).wait(30)
    run.finish()
    assert http.post(gc, json={"grace_seconds": 0}).json()["blobs"] == 0  # everything is referenced
    Api().artifact(f"{project}/gc:v0").delete()
    freed = http.post(gc, json={"grace_seconds": 0}).json()
    assert (freed["digests"], freed["bytes"]) == ([hashlib.sha256(own).hexdigest()], len(own))
    back = Api().artifact(f"{project}/gc:v1").download(tmp_path / "v1")
    assert (Path(back) / "shared.bin").read_bytes() == shared
