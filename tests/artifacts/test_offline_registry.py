"""Offline artifacts delivered by `trackwell sync`, registry links, lineage graphs and what the
REST API refuses (4xx naming the problem)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from servers import http

import trackwell
from trackwell.api import Api


def start(project: str, tmp_path: Path, **kw: object) -> trackwell.Run:
    return trackwell.init(project=project, dir=str(tmp_path), settings={"quiet": True, "console": "off"},
                          reinit=True, **kw)


def sync(server_url: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trackwell", "sync", *map(str, paths)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "TRACKWELL_BASE_URL": server_url, "COLUMNS": "300"})


def test_offline_artifact_is_delivered_by_sync(online, tmp_path: Path, project: str) -> None:
    run = start(project, tmp_path, mode="offline")
    art = trackwell.Artifact("offline-data", "dataset")
    with art.new_file("rows.csv") as f:
        f.write("a,b\n1,2\n")
    (tmp_path / "big.bin").write_bytes(os.urandom(9 << 20))  # over one request: sent in parts
    art.add_file(tmp_path / "big.bin")
    run.log_artifact(art, aliases=["first"])
    run.link_artifact(art, f"{project}-registry/golden", aliases=["candidate"])
    run_id = run.id
    run.finish()
    with pytest.raises(ValueError, match="not on a server yet"):
        art.download()

    done = sync(online.url, tmp_path / "trackwell")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"artifact {online.entity}/{project}/offline-data:v0" in done.stdout
    assert list((tmp_path / "trackwell").rglob("artifacts/*.json")) == []  # delivered: no longer staged
    again = sync(online.url, tmp_path / "trackwell")
    assert "offline-data" not in again.stdout  # nothing left to deliver

    api = Api()
    version = api.artifact(f"{project}/offline-data:first")
    assert version.logged_by().id == run_id
    root = Path(version.download(tmp_path / "back"))
    assert (root / "rows.csv").read_text() == "a,b\n1,2\n"
    assert (root / "big.bin").read_bytes() == (tmp_path / "big.bin").read_bytes()
    linked = api.artifact(f"{project}-registry/golden:candidate")
    assert (linked.version, linked._server["source"]["name"]) == ("v0", "offline-data")
    assert Path(linked.download(tmp_path / "linked"), "rows.csv").read_text() == "a,b\n1,2\n"


def test_link_online_and_lineage_graph(online, tmp_path: Path, project: str) -> None:
    prep = start(project, tmp_path, job_type="prep")
    raw = trackwell.Artifact("raw", "dataset")
    with raw.new_file("x.txt") as f:
        f.write("raw")
    prep.log_artifact(raw).wait(30)
    prep.finish()
    train = start(project, tmp_path, job_type="train")
    train.use_artifact("raw:v0")
    model = trackwell.Artifact("model", "model")
    with model.new_file("w.bin") as f:
        f.write("weights")
    train.log_artifact(model)
    train.link_artifact(model, f"{project}-models/prod-model", aliases=["production"])
    train.finish()

    graph = http.get(f"{online.url}/api/v1/artifacts/{online.entity}/{project}/model/v0/lineage",
                     params={"depth": 2}).json()
    names = {n["id"]: n.get("name") or n.get("run_id") for n in graph["nodes"]}
    edges = {(names[e["from"]], names[e["to"]]) for e in graph["edges"]}
    assert edges == {(prep.id, "raw"), ("raw", train.id), (train.id, "model")}
    assert graph["logged_by"]["run_id"] == train.id and graph["used_by"] == []
    linked = Api().artifact(f"{project}-models/prod-model:production")
    assert linked.digest == model.digest and linked.type == "model"


@pytest.mark.parametrize("body, words", [
    ({"name": "bad name!", "type": "dataset", "manifest": {}}, "artifact name"),
    ({"name": "ok", "type": "", "manifest": {}}, "artifact type"),
    ({"name": "ok", "type": "d", "manifest": {"../x": {"digest": "0" * 64, "size": 1}}}, "'..'"),
    ({"name": "ok", "type": "d", "manifest": {"x": {"digest": "nothex", "size": 1}}}, "not a SHA-256"),
    ({"name": "ok", "type": "d", "manifest": {"x": {"digest": "0" * 64, "size": -1}}}, "not a byte count"),
    ({"name": "ok", "type": "d", "manifest": {}, "aliases": ["v3"]}, "looks like a version"),
    ({"name": "ok", "type": "d", "manifest": {}, "run_id": "no-such-run"}, "not found"),
    ({"name": "ok", "type": "d", "manifest": {"x": {"digest": "1" * 64, "size": 1}}}, "not uploaded"),
    ({"name": "ok", "type": "d", "manifest": {}, "surprise": 1}, "surprise"),
    ({"name": "ok", "type": "d", "manifest": {}, "description": "a\x00b"}, "NUL"),
    ({"name": "ok", "type": "d", "manifest": {}, "metadata": {"k": "\ud800"}}, "lone surrogate"),
    ({"name": "ok", "type": "d", "manifest": {"x": {"digest": "e", "size": 1, "ref": "file:///\x00"}}}, "NUL"),
])
def test_bad_input_is_a_4xx_naming_it(online, project: str, body: dict[str, object], words: str) -> None:
    base = f"{online.url}/api/v1/artifacts/{online.entity}/{project}"
    response = http.post(f"{base}/versions", content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500 and words in response.json()["detail"], response.text


def test_reads_that_miss_are_404s_naming_them(online, project: str) -> None:
    base = f"{online.url}/api/v1/artifacts/{online.entity}/{project}"
    assert "not found" in http.get(f"{base}/nothing/latest").json()["detail"]
    assert http.get(f"{base}/nothing/v0/file", params={"path": "x"}).status_code == 404
    assert "neither" in http.get(f"{base}/nothing/a:b").json()["detail"]  # not vN, not an alias
    assert http.get(f"{base}/nothing", params={"limit": 0}).status_code == 422
