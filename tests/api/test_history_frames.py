"""``history()`` as a pandas DataFrame (or a list), against ``_step`` or another metric
(``x_axis``, e.g. a ``define_metric`` step metric), and ``Api().projects()``, through a real server."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import trackwell
from trackwell.api import Api, RunNotFoundError


@pytest.fixture
def online(live_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TRACKWELL_BASE_URL", live_server.url)
    monkeypatch.chdir(tmp_path)
    return live_server


def epochs_run(tmp_path: Path, project: str = "frames") -> str:
    """100 training steps; every 10th also logs ``epoch`` and ``val/loss`` (W&B's step-metric
    pattern); steps 95.. log ``late`` without an epoch of their own."""
    run = trackwell.init(project=project, dir=str(tmp_path))
    run.define_metric("val/loss", step_metric="epoch")
    for step in range(100):
        row = {"train/loss": 1.0 / (step + 1)}
        if step % 10 == 9:
            row.update({"epoch": step // 10, "val/loss": 2.0 / (step + 1)})
        if step >= 95:
            row["late"] = float(step)
        run.log(row)
    run_id = run.id
    run.finish()
    return run_id


def test_history_is_a_dataframe_by_default(online, tmp_path: Path) -> None:
    run = Api(base_url=online.url).run(f"{online.entity}/frames/{epochs_run(tmp_path)}")
    df = run.history()
    assert type(df).__name__ == "DataFrame" and len(df) == 100
    assert list(df.columns)[0] == "_step" and {"train/loss", "val/loss", "epoch", "_runtime"} <= set(df.columns)
    assert df["_step"].tolist() == list(range(100))
    assert df["train/loss"].iloc[9] == pytest.approx(0.1)
    assert math.isnan(df["val/loss"].iloc[0]) and df["val/loss"].iloc[9] == pytest.approx(0.2)

    few = run.history(keys=["train/loss"], samples=10)
    assert len(few) == 10 and few["_step"].iloc[0] == 0 and few["_step"].iloc[-1] == 99
    rows = run.history(keys=["train/loss"], samples=10, pandas=False)
    assert isinstance(rows, list) and rows == few.to_dict("records")


def test_history_against_a_step_metric(online, tmp_path: Path) -> None:
    run = Api(base_url=online.url).run(f"{online.entity}/frames/{epochs_run(tmp_path)}")
    df = run.history(keys=["val/loss"], x_axis="epoch")
    assert df["epoch"].tolist() == list(range(10))
    assert df["_step"].tolist() == [9 + 10 * e for e in range(10)]
    assert df["val/loss"].tolist() == pytest.approx([2.0 / (10 * e + 10) for e in range(10)])
    assert len(run.history(keys=["val/loss"], x_axis="epoch", samples=4)) == 4

    # buckets: each point with its x (the step metric as of its step)
    b = run.buckets("val/loss", buckets=100, x_axis="epoch")
    assert b["x_axis"] == "epoch" and [p["x"] for p in b["buckets"]] == list(range(10))
    assert b["first"]["x"] == 0 and b["last"]["x"] == 9
    late = run.buckets("late", buckets=100, x_axis="epoch")
    # steps 95..98 have no epoch of their own: the one logged before (at step 89); 99 its own
    assert [p["x"] for p in late["buckets"]] == [8, 8, 8, 8, 9]
    early = run.buckets("train/loss", buckets=100, x_axis="epoch")
    assert [p["x"] for p in early["buckets"][:9]] == [None] * 9 and early["buckets"][9]["x"] == 0

    # the query parameter also goes by x=; an unknown metric is a 404 naming the run's keys
    url = f"{online.url}/api/v1/runs/{online.entity}/frames/{run.id}/history"
    r = httpx.get(url, params={"keys": "val/loss", "x": "epoch", "samples": 3}, headers=online.headers, timeout=10)
    assert r.status_code == 200 and [row["epoch"] for row in r.json()["rows"]] == [0, 4, 9]
    for path, params in (("", {"x_axis": "nope"}), ("/buckets", {"key": "val/loss", "x_axis": "nope"})):
        r = httpx.get(url + path, params=params, headers=online.headers, timeout=10)
        assert r.status_code == 404 and "nope" in r.json()["detail"] and "epoch" in r.json()["detail"], r.text
    r = httpx.get(url, params={"x_axis": "a\x00b"}, headers=online.headers, timeout=10)
    assert r.status_code == 422 and "x_axis" in r.json()["detail"]


def test_without_pandas_the_error_says_how_to_get_it(online, tmp_path: Path) -> None:
    run_id = epochs_run(tmp_path)
    script = f"""
import sys
sys.modules["pandas"] = None  # as if pandas were not installed
from trackwell.api import Api
run = Api(base_url={online.url!r}).run({f"{online.entity}/frames/{run_id}"!r})
print(len(run.history(pandas=False)))
try:
    run.history()
except ImportError as exc:
    print(exc)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    lines = out.stdout.splitlines()
    assert lines[0] == "100"
    assert "pip install 'trackwell[pandas]'" in lines[1] and "pandas=False" in lines[1]


def test_projects_with_run_counts(online, tmp_path: Path) -> None:
    for _ in range(2):
        epochs_run(tmp_path, project="p-two")
    epochs_run(tmp_path, project="p-one")
    api = Api(base_url=online.url)
    found = {p.name: p for p in api.projects()}
    assert found["p-two"].run_count == 2 and found["p-one"].run_count == 1
    assert found["p-two"].entity == online.entity and found["p-two"].path == [online.entity, "p-two"]
    assert len(list(found["p-two"].runs())) == 2
    assert api.project("p-one").run_count == 1 and api.project(f"{online.entity}/p-one").visibility == "private"
    assert len(api.projects(online.entity)) == len(found)
    missing = api.project("no-such-project")  # no request yet, as in W&B
    with pytest.raises(RunNotFoundError, match="no-such-project"):
        missing.run_count  # noqa: B018 - the read is the request
    assert list(api.projects("nobody-here")) == []
