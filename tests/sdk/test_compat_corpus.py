"""Issue 11's "done means": a corpus of ordinary W&B-style scripts (tests/compat_scripts/, each
changed only to ``import trackwell as wandb``) run as subprocesses against a real server, and
what W&B would have stored checked on the server over REST."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import LiveServer, free_port, get_run, http, scan_rows, start_server

SCRIPTS = Path(__file__).parent.parent / "compat_scripts"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("corpus-server"))
    yield live
    live.stop()


def _run(server: LiveServer, script: str, cwd: Path, *args: str, env: dict[str, str] | None = None,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "WANDB_BASE_URL": server.url, **(env or {})}
    result = subprocess.run([sys.executable, str(SCRIPTS / script), *args], cwd=cwd, env=full_env,
                            capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _runs(server: LiveServer, project: str) -> list[dict[str, Any]]:
    answer = http.get(f"{server.url}/api/v1/runs/{server.entity}/{project}", params={"order": "created_at"})
    answer.raise_for_status()
    return answer.json()["runs"]  # type: ignore[no-any-return]


def _user_keys(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if not k.startswith("_")} for row in rows]


def test_argparse_config(server: LiveServer, tmp_path: Path) -> None:
    _run(server, "argparse_config.py", tmp_path, "--lr", "0.05", "--epochs", "4")
    (run,) = _runs(server, "corpus-argparse")
    assert run["config"] == {"lr": 0.05, "epochs": 4, "batch_size": 32, "optimizer": "adam"}
    assert (run["state"], run["tags"], run["notes"]) == ("finished", ["baseline"], "argparse example")
    rows = scan_rows(server.url, f"{server.entity}/corpus-argparse/{run['id']}")
    assert [r["epoch"] for r in rows] == [0, 1, 2, 3] and [r["_step"] for r in rows] == [0, 1, 2, 3]
    assert run["summary"]["loss"] == rows[-1]["loss"] and run["summary"]["final_acc"] == 1 - rows[-1]["loss"]


def test_define_metric_with_step_metric_and_summaries(server: LiveServer, tmp_path: Path) -> None:
    _run(server, "define_metric_step.py", tmp_path)
    (run,) = _runs(server, "corpus-define-metric")
    assert run["metric_definitions"]["val/*"] == {"step_metric": "epoch", "step_sync": True}
    assert run["metric_definitions"]["val/acc"] == {"summary": "max,last", "goal": "max"}
    summary = run["summary"]
    assert summary["train/loss"] == {"min": 1.0 / 20}  # W&B's shape
    assert summary["val/acc"] == {"max": 0.8, "last": 0.75}
    assert summary["val/loss"] == {"best": 0.4, "first": 0.9}
    assert summary["epoch"] == 3


def test_renames_after_init_win(server: LiveServer, tmp_path: Path) -> None:
    _run(server, "rename_after_init.py", tmp_path)
    (run,) = _runs(server, "corpus-rename")
    assert (run["name"], run["tags"], run["notes"], run["group"], run["job_type"]) == (
        "resnet18-lr0.0003", ["renamed"], "named after its config", "resnets", "train")
    assert run["config"] == {"lr": 3e-4, "model": "resnet18", "epochs": 2}


def test_offline_then_sync_keeps_the_rename(server: LiveServer, tmp_path: Path) -> None:
    run_id = _run(server, "offline_then_sync.py", tmp_path).stdout.strip()
    assert _runs(server, "corpus-offline") == []
    sync = subprocess.run([sys.executable, "-m", "trackwell", "sync", str(tmp_path / "trackwell")], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "TRACKWELL_BASE_URL": server.url})
    assert sync.returncode == 0, sync.stderr
    run = get_run(server.url, f"{server.entity}/corpus-offline/{run_id}")
    assert (run["name"], run["tags"], run["config"], run["state"]) == ("offline-node-7", ["offline"], {"seed": 7},
                                                                       "finished")
    assert len(scan_rows(server.url, f"{server.entity}/corpus-offline/{run_id}")) == 10


def test_reinit_finish_previous_folds(server: LiveServer, tmp_path: Path) -> None:
    _run(server, "reinit_folds.py", tmp_path)
    runs = _runs(server, "corpus-folds")
    assert [(r["name"], r["group"], r["job_type"], r["config"], r["state"]) for r in runs] == [
        (f"fold-{i}", "cv-1", "fold", {"fold": i}, "finished") for i in range(3)]


def test_create_new_keeps_two_runs_live(server: LiveServer, tmp_path: Path) -> None:
    _run(server, "create_new_runs.py", tmp_path)
    runs = {r["name"]: r for r in _runs(server, "corpus-create-new")}
    assert set(runs) == {"trainer", "evaluator"} and {r["state"] for r in runs.values()} == {"finished"}
    train = scan_rows(server.url, f"{server.entity}/corpus-create-new/{runs['trainer']['id']}")
    evaluated = scan_rows(server.url, f"{server.entity}/corpus-create-new/{runs['evaluator']['id']}")
    assert [r["loss"] for r in train] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert [r["acc"] for r in evaluated] == [0.0, 0.2, 0.4]


def test_ci_disabled_sends_nothing(server: LiveServer, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    out = _run(server, "ci_disabled.py", tmp_path, env={"WANDB_MODE": "disabled", "WANDB_BASE_URL": dead})
    name, seconds = out.stdout.split()
    assert name == "DisabledRun" and float(seconds) < 5
    out = _run(server, "ci_disabled.py", tmp_path, env={"WANDB_DISABLED": "true"})
    assert out.stdout.startswith("DisabledRun")
    assert _runs(server, "corpus-ci") == [] and not (tmp_path / "trackwell").exists()


def test_errors_are_caught_by_wandb_error_classes(server: LiveServer, tmp_path: Path) -> None:
    out = _run(server, "errors_caught.py", tmp_path)
    assert out.stdout.split("\n")[:4] == ["usage: True", "config: refused", "comm: not found", "auth: refused"]
    (run,) = _runs(server, "corpus-errors")
    assert run["config"] == {"lr": 0.2}


def test_env_driven_run(server: LiveServer, tmp_path: Path) -> None:
    env = {"WANDB_PROJECT": "corpus-env", "WANDB_NAME": "from-env", "WANDB_TAGS": "ci,nightly",
           "WANDB_NOTES": "nightly build", "WANDB_RUN_GROUP": "nightly", "WANDB_JOB_TYPE": "smoke",
           "WANDB_RUN_ID": "nightly-001", "WANDB_CONSOLE": "off", "WANDB_START_METHOD": "thread",
           "WANDB_DIR": str(tmp_path / "wandb-dir")}
    out = _run(server, "env_driven.py", tmp_path, env=env)
    assert out.stdout.strip() == "nightly-001"
    run = get_run(server.url, f"{server.entity}/corpus-env/nightly-001")
    assert (run["name"], run["tags"], run["notes"], run["group"], run["job_type"]) == (
        "from-env", ["ci", "nightly"], "nightly build", "nightly", "smoke")
    assert (tmp_path / "wandb-dir" / "trackwell").is_dir()
    # TRACKWELL_* wins over WANDB_*
    _run(server, "env_driven.py", tmp_path, env={**env, "WANDB_RUN_ID": "nightly-002", "TRACKWELL_NAME": "tw"})
    assert get_run(server.url, f"{server.entity}/corpus-env/nightly-002")["name"] == "tw"


def test_history_dataframe(server: LiveServer, tmp_path: Path) -> None:
    # Api() reads TRACKWELL_BASE_URL only (transport's default; not the SDK's settings), so it is set too
    out = _run(server, "history_dataframe.py", tmp_path, env={"TRACKWELL_BASE_URL": server.url})
    assert out.stdout.split(" ", 3) == ["DataFrame", "20", "0.05", "['loss', 'lr']\n"]


def test_config_from_yaml(server: LiveServer, tmp_path: Path) -> None:
    _run(server, "config_yaml.py", tmp_path)
    (run,) = _runs(server, "corpus-yaml")
    assert run["config"] == {"learning_rate": 0.001, "layers": [128, 64]}


def test_a_crashing_script_is_a_failed_run(server: LiveServer, tmp_path: Path) -> None:
    out = _run(server, "failing_run.py", tmp_path, check=False)
    assert out.returncode == 1 and "RuntimeError: diverged" in out.stderr
    assert "failed (exit code 1)" in out.stderr and "finished" not in out.stderr.replace("not finished", "")
    (run,) = _runs(server, "corpus-failing")
    assert (run["state"], run["exit_code"]) == ("failed", 1)
    rows = _user_keys(scan_rows(server.url, f"{server.entity}/corpus-failing/{run['id']}"))
    assert rows[-1] == {"train/loss": 1 / 3, "train/acc": 2 / 3}


def test_watch_logs_histograms(server: LiveServer, tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="torch is not installed (CI has none); watch's checks run without it "
                                        "in test_watch.py")
    out = _run(server, "watch_model.py", tmp_path)
    assert out.stdout.strip() == "watched"
    (run,) = _runs(server, "corpus-watch")
    rows = scan_rows(server.url, f"{server.entity}/corpus-watch/{run['id']}")
    with_hist = [r for r in rows if "gradients/0.weight" in r]
    assert [r["_step"] for r in with_hist] == [4, 9]  # every 5th backward pass, merged into that step's row
    hist = with_hist[0]["gradients/0.weight"]
    assert hist["_type"] == "histogram" and len(hist["values"]) == 64 and len(hist["bins"]) == 65
    assert sum(hist["values"]) == 32 and "parameters/2.bias" in with_hist[0]
    assert list((tmp_path / "trackwell" / "latest-run" / "files" / "code").glob("watch_model.py"))
