"""Every row of the resume table, against a real server with real child processes."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from lifecycle_helpers import get_run, rows, run_child, run_path, sync
from servers import http, login


def _id() -> str:
    return uuid.uuid4().hex[:8]


def _first(tmp_path: Path, url: str, run_id: str, steps: int = 5, **init: Any) -> dict[str, Any]:
    status, ready, err = run_child(tmp_path, url, {
        "init": {"id": run_id, "config": {"lr": 0.1, "layers": 2}, "tags": ["base"], "notes": "first",
                 **init},
        "steps": steps, "summary": {"best": 0.5}, "then": "finish"})
    assert status == 0 and ready is not None, err
    return ready


@pytest.mark.parametrize("mode", ["must", "allow", "auto", True])
def test_resume_existing_run_continues_from_last_step(server: Any, tmp_path: Path, mode: Any) -> None:
    run_id = _id()
    _first(tmp_path, server.url, run_id)
    before = get_run(server.url, run_id)
    status, ready, err = run_child(tmp_path, server.url, {
        "init": {"id": run_id, "resume": mode, "config": {"lr": 0.2, "batch": 64}}, "steps": 3, "then": "finish"})
    assert status == 0 and ready is not None, err
    assert (ready["resumed"], ready["starting_step"], ready["name"]) == (True, 5, before["name"])
    assert ready["summary"]["best"] == 0.5  # the summary carries over into the script
    run = get_run(server.url, run_id)
    assert [r["_step"] for r in rows(server.url, run_id)] == list(range(8))
    assert [r["i"] for r in rows(server.url, run_id)] == list(range(8))
    assert run["config"] == {"lr": 0.2, "layers": 2, "batch": 64}  # new values win, old keys stay
    assert (run["tags"], run["notes"], run["summary"]["best"]) == (["base"], "first", 0.5)
    assert run["summary"]["i"] == 7 and run["state"] == "finished"
    runtimes = [r["_runtime"] for r in rows(server.url, run_id)]
    assert runtimes == sorted(runtimes) and runtimes[5] >= before["runtime"]  # _runtime continues


def test_resume_must_missing_run_is_an_error(server: Any, tmp_path: Path) -> None:
    run_id = _id()
    status, ready, err = run_child(tmp_path, server.url, {"init": {"id": run_id, "resume": "must"}, "steps": 1})
    assert status != 0 and ready is None
    assert f"run {run_path(server.url, run_id)} does not exist" in err and "resume='allow'" in err
    assert "not found" in _status(server.url, run_id)


@pytest.mark.parametrize("mode", ["allow", "never", "auto"])
def test_missing_run_is_created_with_the_id(server: Any, tmp_path: Path, mode: str) -> None:
    run_id = _id()
    status, ready, err = run_child(tmp_path, server.url, {"init": {"id": run_id, "resume": mode}, "steps": 4})
    assert status == 0 and ready is not None, err
    assert (ready["id"], ready["resumed"], ready["starting_step"]) == (run_id, False, 0)
    assert [r["_step"] for r in rows(server.url, run_id)] == [0, 1, 2, 3]
    assert get_run(server.url, run_id)["state"] == "finished"


def test_resume_never_existing_run_is_an_error(server: Any, tmp_path: Path) -> None:
    run_id = _id()
    _first(tmp_path, server.url, run_id)
    status, ready, err = run_child(tmp_path, server.url, {"init": {"id": run_id, "resume": "never"}, "steps": 1})
    assert status != 0 and ready is None
    assert f"run {run_path(server.url, run_id)} already exists" in err
    assert "resume='allow'" in err and "another id" in err
    assert len(rows(server.url, run_id)) == 5  # untouched


def test_env_vars_select_resume_and_id(server: Any, tmp_path: Path) -> None:
    run_id = _id()
    _first(tmp_path, server.url, run_id)
    status, ready, err = run_child(tmp_path, server.url, {"steps": 2},
                                   env={"TRACKWELL_RUN_ID": run_id, "TRACKWELL_RESUME": "must"})
    assert status == 0 and ready is not None and ready["starting_step"] == 5, err


def test_auto_without_id_uses_resume_file_until_a_clean_end(server: Any, tmp_path: Path) -> None:
    resume_file = tmp_path / "trackwell" / "resume.json"
    status, first, err = run_child(tmp_path, server.url, {"init": {"resume": "auto"}, "steps": 3, "then": "error"})
    assert status == 1 and first is not None and resume_file.exists(), err  # crashed: kept
    status, second, err = run_child(tmp_path, server.url, {"init": {"resume": "auto"}, "steps": 3, "then": "end"})
    assert status == 0 and second is not None, err
    assert (second["id"], second["starting_step"], second["resumed"]) == (first["id"], 3, True)
    assert not resume_file.exists()  # a normal interpreter exit (no finish() call) removes it
    status, third, err = run_child(tmp_path, server.url, {"init": {"resume": "auto"}, "steps": 1, "then": "finish"})
    assert status == 0 and third is not None and third["id"] != first["id"] and not third["resumed"]
    assert not resume_file.exists()
    assert [r["_step"] for r in rows(server.url, first["id"])] == list(range(6))


def test_many_resumes_keep_one_gap_free_history(server: Any, tmp_path: Path) -> None:
    run_id = _id()
    for k in range(4):
        status, ready, err = run_child(tmp_path, server.url, {
            "init": {"id": run_id, "resume": "allow"}, "steps": 5, "then": "error" if k < 3 else "finish"})
        assert status == (1 if k < 3 else 0) and ready is not None and ready["starting_step"] == 5 * k, err
    history = rows(server.url, run_id)
    assert [r["_step"] for r in history] == list(range(20)) and [r["i"] for r in history] == list(range(20))
    assert get_run(server.url, run_id)["state"] == "finished"


def test_resume_delivers_an_earlier_journal_first(server: Any, tmp_path: Path) -> None:
    """The first process never reached the server; resuming from the same directory sends its
    journal before asking for the last step, so nothing collides and nothing is lost."""
    run_id = _id()
    login("http://127.0.0.1:9", like=server.url)  # the user's server while it was down
    status, _, err = run_child(tmp_path, "http://127.0.0.1:9", {"init": {"id": run_id}, "steps": 6},
                               env={"TRACKWELL_FINISH_TIMEOUT": "0.2", "TRACKWELL_INIT_TIMEOUT": "0.5"})
    assert status == 0, err
    status, ready, err = run_child(tmp_path, server.url, {"init": {"id": run_id, "resume": "must"}, "steps": 2})
    assert status == 0 and ready is not None and ready["starting_step"] == 6, err
    assert [r["i"] for r in rows(server.url, run_id)] == list(range(8))


def test_offline_resume_is_resolved_at_sync(server: Any, tmp_path: Path) -> None:
    run_id = _id()
    _first(tmp_path, server.url, run_id)
    before = get_run(server.url, run_id)
    status, ready, err = run_child(tmp_path, server.url, {
        "init": {"id": run_id, "resume": "must", "mode": "offline", "config": {"lr": 0.3}}, "steps": 4})
    assert status == 0 and ready is not None and ready["starting_step"] == 0, err  # unknown offline
    for _ in range(2):  # a second sync changes nothing: the offset is stored with the writer
        out = sync(Path(ready["journal"]).parent, url=server.url)
        assert out.returncode == 0, out.stdout + out.stderr
    history = rows(server.url, run_id)
    assert [r["_step"] for r in history] == list(range(9))
    assert [r["i"] for r in history] == [0, 1, 2, 3, 4, 0, 1, 2, 3]  # what each process logged
    assert history[5]["_runtime"] >= before["runtime"]
    run = get_run(server.url, run_id)
    assert run["config"]["lr"] == 0.3 and run["config"]["layers"] == 2 and run["state"] == "finished"


@pytest.mark.parametrize(("mode", "exists", "message"), [
    ("must", False, "cannot resume it"), ("never", True, "already exists")])
def test_offline_resume_conflicts_fail_at_sync(server: Any, tmp_path: Path, mode: str, exists: bool,
                                               message: str) -> None:
    run_id = _id()
    if exists:
        _first(tmp_path, server.url, run_id)
    status, ready, err = run_child(tmp_path, server.url, {
        "init": {"id": run_id, "resume": mode, "mode": "offline"}, "steps": 2})
    assert status == 0 and ready is not None, err
    out = sync(Path(ready["journal"]).parent, url=server.url)
    assert out.returncode != 0 and message in " ".join((out.stdout + out.stderr).split())
    if exists:
        assert len(rows(server.url, run_id)) == 5  # untouched
    else:
        assert "not found" in _status(server.url, run_id)  # not created either


def _status(url: str, run_id: str) -> str:
    return http.get(f"{url}/api/v1/runs/{run_path(url, run_id)}", timeout=10).text
