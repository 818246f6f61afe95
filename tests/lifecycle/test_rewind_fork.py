"""resume_from (rewind) and fork_from, against a real server with real child processes."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from lifecycle_helpers import get_run, rows, run_child, run_path
from servers import http

import trackwell
from trackwell.sdk import UsageError


def _source(tmp_path: Path, url: str, steps: int = 20) -> str:
    run_id = uuid.uuid4().hex[:8]
    status, ready, err = run_child(tmp_path, url, {"init": {"id": run_id, "config": {"lr": 1}}, "steps": steps})
    assert status == 0 and ready is not None, err
    return run_id


def test_rewind_hides_history_after_the_step_and_continues(server: Any, tmp_path: Path) -> None:
    run_id = _source(tmp_path, server.url)
    status, ready, err = run_child(tmp_path, server.url, {
        "init": {"resume_from": f"{run_id}?_step=9"}, "steps": 3})
    assert status == 0 and ready is not None, err
    assert (ready["id"], ready["starting_step"], ready["resumed"]) == (run_id, 10, True)
    history = rows(server.url, run_id)
    assert [r["_step"] for r in history] == list(range(13))
    assert [r["i"] for r in history] == list(range(13))
    metrics = http.get(f"{server.url}/api/v1/runs/{run_path(server.url, run_id)}/metrics", timeout=10).json()["metrics"]
    assert metrics["i"]["count"] == 13 and metrics["i"]["max"] == 12  # hidden points no longer count
    run = get_run(server.url, run_id)
    assert run["summary"]["i"] == 12 and run["state"] == "finished"


def test_fork_reads_the_source_by_reference_and_records_the_branch(server: Any, tmp_path: Path) -> None:
    source = _source(tmp_path, server.url)
    status, ready, err = run_child(tmp_path, server.url, {
        "init": {"fork_from": f"{source}?_step=9", "config": {"lr": 2}}, "steps": 3})
    assert status == 0 and ready is not None, err
    fork = ready["id"]
    assert fork != source and ready["starting_step"] == 10 and not ready["resumed"]
    history = rows(server.url, fork)
    assert [r["_step"] for r in history] == list(range(13)) and [r["i"] for r in history] == list(range(13))
    run = get_run(server.url, fork)
    assert run["forked_from"] == {"id": source, "step": 9} and run["config"] == {"lr": 2}
    assert [r["_step"] for r in rows(server.url, source)] == list(range(20))  # the source is untouched
    chart = http.get(f"{server.url}/api/v1/runs/{run_path(server.url, fork)}/history/buckets",
                      params={"key": "i", "buckets": 100}, timeout=10).json()
    assert chart["count"] == 13 and chart["last"] == {"step": 12, "value": 12.0}
    # rewinding the source below the branch would pull history from under the fork: refused
    r = http.post(f"{server.url}/api/v1/runs/{run_path(server.url, source)}/rewind", json={"step": 5}, timeout=10)
    assert r.status_code == 409 and fork in r.json()["detail"]


def test_fork_of_a_fork_and_errors(server: Any, tmp_path: Path) -> None:
    source = _source(tmp_path, server.url, steps=10)
    status, first, err = run_child(tmp_path, server.url, {"init": {"fork_from": f"{source}?_step=7"}, "steps": 5})
    assert status == 0 and first is not None, err
    status, second, err = run_child(tmp_path, server.url, {"init": {"fork_from": f"{first['id']}?_step=4"},
                                                           "steps": 2})
    assert status == 0 and second is not None, err
    assert [r["i"] for r in rows(server.url, second["id"])] == [0, 1, 2, 3, 4, 5, 6]
    status, _, err = run_child(tmp_path, server.url, {"init": {"fork_from": f"{source}?_step=50"}})
    assert status != 0 and "its steps go from 0 to 9" in err
    status, _, err = run_child(tmp_path, server.url, {"init": {"fork_from": "nosuchrun?_step=1"}})
    assert status != 0 and "nosuchrun not found" in err


@pytest.mark.parametrize("kwargs", [
    {"resume": "must", "fork_from": "abc?_step=1"},
    {"resume_from": "abc?_step=1", "fork_from": "abc?_step=1"},
    {"resume": True, "resume_from": "abc?_step=1"},
])
def test_resume_rewind_and_fork_are_mutually_exclusive(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(UsageError, match="mutually exclusive"):
        trackwell.init(dir=tmp_path, mode="offline", reinit=True, **kwargs)


def test_bad_branch_spec_and_offline_rewind_are_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="must look like '<run id>\\?_step=<step>'"):
        trackwell.init(dir=tmp_path, mode="offline", reinit=True, fork_from="abc")
    with pytest.raises(UsageError, match="resume_from needs the server"):
        trackwell.init(dir=tmp_path, mode="offline", reinit=True, resume_from="abc?_step=3")
    with pytest.raises(UsageError, match="leave id out"):
        trackwell.init(dir=tmp_path, mode="offline", reinit=True, id="other", resume_from="abc?_step=3")
