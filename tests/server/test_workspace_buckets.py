"""The workspace's batched buckets (``GET /projects/{entity}/{project}/buckets``) on a real server,
SQLite and PostgreSQL: the same answer as one ``/history/buckets`` call per (run, key), a key never
logged as count 0, a run not in the project as null; limits and bad names refused in words."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from servers import http

from trackwell.schema import Batch, History, RunStart
from trackwell.transport import Client


def _log(url: str, project: str, run_id: str, steps: int, keys: tuple[str, ...]) -> None:
    records: list[Any] = [RunStart(seq=1, ts=time.time(), entity="team", project=project, run_id=run_id)]
    for step in range(steps):
        records.append(History(seq=step + 2, ts=1.7e9 + step, step=step, runtime=step / 10,
                               data={k: step * (i + 1) * 0.5 for i, k in enumerate(keys)}))
    with Client(url, max_attempts=1) as client:
        client.send_batch("team", project, run_id, Batch(writer=f"w-{run_id}", records=records))


def test_many_runs_and_keys_in_one_request(shared_server: Any) -> None:
    url, project = shared_server.url, f"ws-{uuid.uuid4().hex[:8]}"
    _log(url, project, "run-a", 100, ("loss",))
    _log(url, project, "run-b", 30, ("loss", "acc"))
    answer = http.get(f"{url}/api/v1/projects/team/{project}/buckets",
                      params={"runs": "run-a,run-b,gone", "keys": "loss,acc", "buckets": 10})
    assert answer.status_code == 200, answer.text
    runs = answer.json()["runs"]
    assert set(runs) == {"run-a", "run-b", "gone"} and runs["gone"] is None
    assert runs["run-a"]["acc"] == {"key": "acc", "count": 0, "first": None, "last": None, "buckets": []}
    for run_id in ("run-a", "run-b"):
        one = http.get(f"{url}/api/v1/runs/team/{project}/{run_id}/history/buckets",
                       params={"key": "loss", "buckets": 10})
        assert runs[run_id]["loss"] == one.json()
    assert runs["run-a"]["loss"]["count"] == 100 and len(runs["run-a"]["loss"]["buckets"]) == 10
    assert runs["run-b"]["acc"]["last"] == {"step": 29, "value": 29.0}

    zoomed = http.get(f"{url}/api/v1/projects/team/{project}/buckets",
                      params={"runs": ["run-a"], "keys": '["loss"]', "buckets": 1000, "min_step": 20, "max_step": 29})
    loss = zoomed.json()["runs"]["run-a"]["loss"]
    assert loss["count"] == 10 and [b["last_step"] for b in loss["buckets"]] == list(range(20, 30))


def test_refusals_name_the_parameter_and_the_limit(shared_server: Any) -> None:
    project = f"ws-{uuid.uuid4().hex[:8]}"
    base = f"{shared_server.url}/api/v1/projects/team/{project}/buckets"
    _log(shared_server.url, project, "run-a", 3, ("loss",))
    no_runs = http.get(base, params={"keys": "loss"})
    assert no_runs.status_code == 422 and "runs is empty" in no_runs.json()["detail"]
    too_many = http.get(base, params={"runs": ",".join(f"r{i}" for i in range(101)), "keys": "loss"})
    assert too_many.status_code == 422 and "limit of 100" in too_many.json()["detail"]
    series = http.get(base, params={"runs": ",".join(f"r{i}" for i in range(50)),
                                    "keys": ",".join(f"k{i}" for i in range(21))})
    assert series.status_code == 422 and "1000 series" in series.json()["detail"]
    nul = http.get(base, params={"runs": "run-a,bad\x00id", "keys": "loss"})
    assert nul.status_code == 422 and "NUL" in nul.json()["detail"]
    assert httpx.get(base, params={"runs": "run-a", "keys": "loss"}).status_code == 401  # no key
