"""``run.update()`` / ``run.delete()`` through the query API against a real server process:
what is changed is what the server keeps, bad bodies are 4xx naming the field, a deleted run is
gone from every read and cannot be brought back by its process."""

from __future__ import annotations

import math
import uuid
from pathlib import Path

import httpx
import pytest

import trackwell
from trackwell.api import Api, RunNotFoundError
from trackwell.errors import CommError
from trackwell.schema import Batch, History, RunStart, encode

MSGPACK = {"Content-Type": "application/msgpack"}


@pytest.fixture
def online(live_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TRACKWELL_BASE_URL", live_server.url)
    monkeypatch.chdir(tmp_path)
    return live_server


def log_run(project: str, tmp_path: Path, steps: int = 20) -> str:
    run = trackwell.init(project=project, name="before", config={"lr": 0.1, "drop": 1, "opt": {"name": "sgd"}},
                         tags=["a"], notes="first", dir=str(tmp_path))
    for step in range(steps):
        run.log({"loss": 1.0 / (step + 1), "acc": step / steps})
    run.summary["note"] = "kept"
    run.summary["gone"] = 5
    run.log({"weird": math.nan})
    run_id = run.id
    run.finish()
    return run_id


def test_update_sends_what_changed_and_the_server_keeps_it(online, tmp_path: Path) -> None:
    run_id = log_run("edits", tmp_path)
    api = Api(base_url=online.url)
    run = api.run(f"{online.entity}/edits/{run_id}")
    assert run.display_name == run.name == "before" and run.id == run_id
    assert run.summary_metrics is run.summary and math.isnan(run.summary["weird"])

    run.name = "after"
    run.tags = ["a", "best"]
    run.notes = None
    run.group = "g2"
    run.config["lr"] = 0.2
    run.config["new"] = {"x": [1, 2]}
    del run.config["drop"]
    run.summary["best_acc"] = 0.97
    run.summary["loss"] = -1.0
    del run.summary["gone"]
    run.update()

    again = api.run(f"{online.entity}/edits/{run_id}")
    assert (again.name, again.tags, again.notes, again.group) == ("after", ["a", "best"], None, "g2")
    assert again.config == {"lr": 0.2, "opt": {"name": "sgd"}, "new": {"x": [1, 2]}}
    assert again.summary["best_acc"] == 0.97 and again.summary["loss"] == -1.0
    assert "gone" not in again.summary and again.summary["note"] == "kept"
    assert math.isnan(again.summary["weird"])  # untouched NaN is not re-sent (it would be pinned)
    assert again.state == "finished"  # an edit is not a restart
    # the metric statistics of a summary key set by hand stay those of its history
    assert again.metrics()["loss"]["min"] == pytest.approx(1.0 / 20)

    # W&B's display_name setter is the same field
    again.display_name = "third"
    again.update()
    assert api.run(f"{online.entity}/edits/{run_id}").name == "third"
    # nothing changed: no request, same object
    assert again.update() is again


def test_summary_set_by_update_stays_when_the_run_logs_more(online, tmp_path: Path) -> None:
    run = trackwell.init(project="edits", dir=str(tmp_path))
    run.log({"loss": 3.0})
    run.finish()
    api_run = Api(base_url=online.url).run(f"{online.entity}/edits/{run.id}")
    api_run.summary["loss"] = 0.5
    api_run.update()
    resumed = trackwell.init(project="edits", id=run.id, resume="must", dir=str(tmp_path))
    resumed.log({"loss": 9.0})
    resumed.finish()
    assert api_run.refresh().summary["loss"] == 0.5


def test_bad_updates_are_4xx_naming_the_field(online, tmp_path: Path) -> None:
    run_id = log_run("edits", tmp_path, steps=2)
    url = f"{online.url}/api/v1/runs/{online.entity}/edits/{run_id}"
    cases = [
        ({"tags": "not-a-list"}, "tags"),
        ({"colour": "red"}, "colour"),
        ({"name": None}, "name"),
        ({"config": {"x": "\x00"}}, "NUL"),
        ({"summary_remove": ["k" * 600]}, "summary_remove"),
        ({}, "changes nothing"),
        ({"summary": {"": 1, "k" * 600: 2}}, "summary key"),
    ]
    for body, named in cases:
        r = httpx.patch(url, json=body, headers=online.headers, timeout=10)
        assert r.status_code == 422, (body, r.status_code, r.text)
        assert named in r.json()["detail"], (body, r.json())
    r = httpx.patch(url, content=b"{not json", headers={**online.headers, "Content-Type": "application/json"},
                    timeout=10)
    assert r.status_code == 422 and "fields are" in r.json()["detail"]
    r = httpx.patch(f"{online.url}/api/v1/runs/{online.entity}/edits/no-such-run", json={"notes": "x"},
                    headers=online.headers, timeout=10)
    assert r.status_code == 404 and "no-such-run" in r.json()["detail"]
    # through the client: the server's 4xx as a CommError
    run = Api(base_url=online.url).run(f"{online.entity}/edits/{run_id}")
    run.tags = "oops"  # type: ignore[assignment]
    with pytest.raises(CommError, match="tags"):
        run.update()


def test_delete_removes_everything_and_is_idempotent(online, tmp_path: Path) -> None:
    keep = log_run("deletes", tmp_path)
    doomed = log_run("deletes", tmp_path)
    api = Api(base_url=online.url)
    run = api.run(f"{online.entity}/deletes/{doomed}")
    assert len(list(run.scan_history())) == 21
    before = [p.run_count for p in api.projects() if p.name == "deletes"]
    run.delete()
    run.delete()  # again: fine

    with pytest.raises(RunNotFoundError):
        api.run(f"{online.entity}/deletes/{doomed}")
    assert [r.id for r in api.runs(f"{online.entity}/deletes")] == [keep]
    assert [p.run_count for p in api.projects() if p.name == "deletes"] == [before[0] - 1]
    base = f"{online.url}/api/v1/runs/{online.entity}/deletes/{doomed}"
    for suffix in ("/history", "/history/scan", "/console", "/metrics"):
        r = httpx.get(base + suffix, headers=online.headers, timeout=10)
        assert r.status_code == 404, (suffix, r.status_code, r.text)
    # the other run's history is untouched
    assert len(list(api.run(f"{online.entity}/deletes/{keep}").scan_history())) == 21

    r = httpx.delete(base, headers=online.headers, timeout=10)
    assert r.status_code == 200 and r.json()["already_deleted"] is True
    r = httpx.delete(f"{online.url}/api/v1/runs/{online.entity}/deletes/never-was", headers=online.headers,
                     timeout=10)
    assert r.status_code == 404


def test_a_deleted_run_cannot_be_brought_back(online, tmp_path: Path) -> None:
    """Its process's next batch, a writer claim, a PUT or an edit of its id: 410 saying it was
    deleted, never a 5xx, and the run stays gone."""
    run_id = f"del-{uuid.uuid4().hex[:8]}"
    entity = online.entity
    base = f"{online.url}/api/v1/runs/{entity}/deletes/{run_id}"
    writer = uuid.uuid4().hex
    first = Batch(writer=writer, records=[RunStart(seq=1, ts=0.0, entity=entity, project="deletes", run_id=run_id),
                                          History(seq=2, ts=0.0, step=0, runtime=0.0, data={"loss": 1.0})])
    r = httpx.post(base + "/records", content=encode(first), headers={**online.headers, **MSGPACK}, timeout=10)
    assert r.status_code == 200, r.text
    assert httpx.delete(base, headers=online.headers, timeout=10).status_code == 200

    later = Batch(writer=writer, records=[History(seq=3, ts=0.0, step=1, runtime=0.1, data={"loss": 0.5})])
    fresh = Batch(writer=uuid.uuid4().hex, records=first.records)
    attempts = [
        ("POST", "/records", {"content": encode(later), "headers": {**online.headers, **MSGPACK}}),
        ("POST", "/records", {"content": encode(fresh), "headers": {**online.headers, **MSGPACK}}),
        ("POST", "/writers", {"json": {"writer": uuid.uuid4().hex}, "headers": online.headers}),
        ("PUT", "", {"json": {"notes": "again"}, "headers": online.headers}),
        ("PATCH", "", {"json": {"notes": "again"}, "headers": online.headers}),
    ]
    for method, suffix, kwargs in attempts:
        r = httpx.request(method, base + suffix, timeout=10, **kwargs)
        assert r.status_code == 410, (method, suffix, r.status_code, r.text)
        assert r.json()["error"] == "run_deleted" and "was deleted" in r.json()["detail"], r.json()
    assert httpx.get(base, headers=online.headers, timeout=10).status_code == 404
    assert httpx.get(base + "/history/scan", headers=online.headers, timeout=10).status_code == 404


def test_a_run_with_forks_is_not_deleted(online, tmp_path: Path) -> None:
    run_id = log_run("forks", tmp_path)
    base = f"{online.url}/api/v1/runs/{online.entity}/forks"
    r = httpx.post(f"{base}/child/fork", json={"source": run_id, "step": 5}, headers=online.headers, timeout=10)
    assert r.status_code == 200, r.text
    r = httpx.delete(f"{base}/{run_id}", headers=online.headers, timeout=10)
    assert r.status_code == 409 and "child" in r.json()["detail"]
    assert httpx.delete(f"{base}/child", headers=online.headers, timeout=10).status_code == 200
    assert httpx.delete(f"{base}/{run_id}", headers=online.headers, timeout=10).status_code == 200


def test_deleting_a_run_releases_its_files(online) -> None:
    """A deleted run's files no longer hold their blobs: gc frees the bytes nothing else uses."""
    import hashlib

    from trackwell.schema import FileSaved

    entity, base = online.entity, f"{online.url}/api/v1"
    data = b"model weights " * 1000
    digest = hashlib.sha256(data).hexdigest()
    r = httpx.put(f"{base}/projects/{entity}/files/blobs/{digest}", content=data, headers=online.headers, timeout=10)
    assert r.status_code == 200, r.text
    for run_id in ("with-file", "keeps-file"):
        batch = Batch(writer=uuid.uuid4().hex, records=[
            RunStart(seq=1, ts=0.0, entity=entity, project="files", run_id=run_id),
            FileSaved(seq=2, ts=0.0, name="model.bin", digest=digest, size=len(data))])
        r = httpx.post(f"{base}/runs/{entity}/files/{run_id}/records", content=encode(batch),
                       headers={**online.headers, **MSGPACK}, timeout=10)
        assert r.status_code == 200, r.text

    def gc() -> list[str]:
        r = httpx.post(f"{base}/admin/gc", json={"grace_seconds": 0}, headers=online.headers, timeout=10)
        assert r.status_code == 200, r.text
        return list(r.json()["digests"])

    assert httpx.delete(f"{base}/runs/{entity}/files/with-file", headers=online.headers, timeout=10).status_code == 200
    assert gc() == []  # the other run still has it
    assert httpx.delete(f"{base}/runs/{entity}/files/keeps-file", headers=online.headers, timeout=10).status_code == 200
    assert gc() == [digest]


def test_deleting_a_run_keeps_its_artifacts(online, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As W&B's ``run.delete()`` (delete_artifacts=False): the artifact it logged stays readable."""
    monkeypatch.setenv("TRACKWELL_CACHE_DIR", str(tmp_path / "cache"))
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"w" * 4096)
    run = trackwell.init(project="arts", dir=str(tmp_path), settings={"quiet": True})
    art = trackwell.Artifact("model", "model")
    art.add_file(str(weights))
    run.log_artifact(art).wait()
    run_id = run.id
    run.finish()
    api = Api(base_url=online.url)
    api.run(f"{online.entity}/arts/{run_id}").delete()
    with pytest.raises(RunNotFoundError):
        api.run(f"{online.entity}/arts/{run_id}")
    kept = api.artifact(f"{online.entity}/arts/model:v0")
    assert (Path(kept.download(str(tmp_path / "down"))) / "weights.bin").read_bytes() == weights.read_bytes()
