"""The query API reads back exactly what the SDK logged, through a real server process."""

from __future__ import annotations

import math
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


def log_run(project: str, tmp_path: Path, lr: float, steps: int, **init) -> str:
    run = trackwell.init(project=project, config={"lr": lr, "opt": {"name": "adam"}}, dir=str(tmp_path), **init)
    for step in range(steps):
        run.log({"loss": 1.0 / (step + 1) + lr, "acc": step / steps})
    run.log({"weird": math.nan, "label": "done"})
    run.summary["best"] = lr * 10
    run_id = run.id
    run.finish()
    return run_id


def test_run_config_summary_history(online, tmp_path: Path) -> None:
    run_id = log_run("q", tmp_path, lr=0.1, steps=300, tags=["a", "b"], group="g1")
    run = Api(base_url=online.url).run(f"{online.entity}/q/{run_id}")
    assert run.state == "finished" and run.exit_code == 0
    assert run.config == {"lr": 0.1, "opt": {"name": "adam"}}
    assert run.tags == ["a", "b"] and run.group == "g1"
    assert run.summary["best"] == pytest.approx(1.0)
    assert run.summary["loss"] == pytest.approx(1.0 / 300 + 0.1)
    assert math.isnan(run.summary["weird"]) and run.summary["label"] == "done"
    # the URL the SDK prints is the run's page in the web UI: a browser gets it without a key (the
    # app reads the run from the API); 503 is the page saying the UI was not built in this checkout
    assert run.url == f"{online.url}/{online.entity}/q/runs/{run_id}"
    page = httpx.get(run.url, timeout=10)
    assert page.status_code in (200, 503) and page.headers["content-type"].startswith("text/html"), page.text[:300]

    rows = list(run.scan_history(keys=["loss"], page_size=64))
    assert [r["_step"] for r in rows] == list(range(300))
    assert [r["loss"] for r in rows] == pytest.approx([1.0 / (s + 1) + 0.1 for s in range(300)])

    sampled = run.history(keys=["loss"], samples=50, pandas=False)
    steps = [r["_step"] for r in sampled]
    assert len(sampled) <= 50 and steps[0] == 0 and steps[-1] == 299 and steps == sorted(set(steps))

    full = list(run.scan_history())
    assert len(full) == 301
    assert full[-1]["label"] == "done" and math.isnan(full[-1]["weird"])
    assert all("_runtime" in r and "_timestamp" in r for r in full)

    buckets = run.buckets("loss", buckets=10)
    assert buckets["count"] == 300 and len(buckets["buckets"]) == 10
    assert buckets["first"] == {"step": 0, "value": pytest.approx(1.1)}
    assert min(b["min"] for b in buckets["buckets"]) == pytest.approx(1.0 / 300 + 0.1)

    metrics = run.metrics()
    assert metrics["loss"]["count"] == 300 and metrics["loss"]["max"] == pytest.approx(1.1)


def test_runs_filter_order_and_paging(online, tmp_path: Path) -> None:
    ids = {lr: log_run("sweep", tmp_path, lr=lr, steps=5, group="grid" if lr < 0.5 else "other")
           for lr in (0.01, 0.1, 0.3, 0.7, 0.9)}
    api = Api(base_url=online.url)

    ordered = api.runs(f"{online.entity}/sweep", order="-summary.best", per_page=2)
    assert [r.id for r in ordered] == [ids[lr] for lr in (0.9, 0.7, 0.3, 0.1, 0.01)]
    assert len(ordered) == 5

    small = api.runs(f"{online.entity}/sweep", filters={"config.lr": {"$lt": 0.5}}, order="+config.lr")
    assert [r.config["lr"] for r in small] == [0.01, 0.1, 0.3]

    grouped = api.runs(f"{online.entity}/sweep", filters={"group": {"$regex": "^gr"}, "state": "finished"})
    assert {r.id for r in grouped} == {ids[0.01], ids[0.1], ids[0.3]}


def test_unknown_run_is_a_clear_error(online) -> None:
    with pytest.raises(RunNotFoundError, match=f"{online.entity}/nope/zzzzzzzz"):
        Api(base_url=online.url).run(f"{online.entity}/nope/zzzzzzzz")


def test_sdk_summary_equals_server_summary(online, tmp_path: Path) -> None:
    """The script's run.summary (computed client-side) and the server's (computed at ingest) agree."""
    import random

    rng = random.Random(7)
    run = trackwell.init(project="consistency", dir=str(tmp_path))
    run.define_metric("loss", summary="min")
    run.define_metric("val/*", summary="max")
    run.define_metric("lr", summary="mean")
    run.define_metric("noise", summary="none")
    for step in range(500):
        row = {"loss": rng.random(), "val/acc": rng.random(), "lr": rng.choice([0.1, 0.2, math.nan]),
               "noise": rng.random(), "phase": rng.choice(["a", "b"]), "flag": step % 2 == 0}
        run.log(row, commit=step % 3 != 0)
        if step == 250:
            run.summary["pinned"] = 42
            run.summary["phase"] = "fixed"
    run.log({"loss": 5.0, "gone": 1.0})
    del run.summary["gone"]
    local = run.summary.as_dict()
    run_id = run.id
    run.finish()

    remote = Api(base_url=online.url).run(f"{online.entity}/consistency/{run_id}").summary
    assert set(local) == set(remote)
    for key, value in local.items():
        assert remote[key] == pytest.approx(value, nan_ok=True), key  # nan_ok: NaN equals NaN
    assert "noise" not in remote and "gone" not in remote and remote["phase"] == "fixed"
