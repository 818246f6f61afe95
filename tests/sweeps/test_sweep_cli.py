"""`trackwell sweep` (create from YAML, status, pause/resume/stop/cancel), ``trackwell.sweep`` and
``Api().sweep`` against a real server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from agents import agent_env, function_agent
from servers import LiveServer

import trackwell
from trackwell.api import Api


def _cli(live: LiveServer, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trackwell", *args], cwd=cwd, env=agent_env(live.url, cwd),
                          capture_output=True, text=True, timeout=60)


def test_sweep_command_creates_prints_and_controls(live_server: LiveServer, tmp_path: Path) -> None:
    config = tmp_path / "sweep.yaml"
    config.write_text("method: grid\nproject: cli-proj\nmetric:\n  name: loss\nparameters:\n"
                      "  lr:\n    values: [0.1, 0.01]\n  layers:\n    min: 1\n    max: 3\n")
    done = _cli(live_server, tmp_path, "sweep", str(config))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Created sweep with ID:" in out and "(grid, 6 runs expected)" in out
    path = out.split("trackwell agent ")[1].split()[0]
    assert path.startswith(f"{live_server.entity}/cli-proj/")
    for flag, state in (("--pause", "paused"), ("--resume", "running"), ("--stop", "finished")):
        done = _cli(live_server, tmp_path, "sweep", flag, path)
        assert done.returncode == 0 and f": {state}" in done.stdout, done.stdout + done.stderr
    done = _cli(live_server, tmp_path, "sweep", "--cancel", path)
    assert done.returncode == 1 and "is finished; cancel applies to a running or paused sweep" in done.stderr
    done = _cli(live_server, tmp_path, "sweep", "--status", path)
    assert done.returncode == 0 and "0/6 ended" in done.stdout and "no runs yet" in done.stdout


def test_sweep_command_reports_every_config_problem(live_server: LiveServer, tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("method: bayes\nparameters:\n  lr:\n    distribution: log_uniform_values\n    min: 0\n    max: 1\n")
    done = _cli(live_server, tmp_path, "sweep", str(config))
    assert done.returncode == 1
    assert "2 problems" in done.stderr and "parameters.lr.min" in done.stderr and "metric: method bayes" in done.stderr


def test_api_sweep_reads_config_state_runs_and_best_run(live_server: LiveServer, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKWELL_BASE_URL", live_server.url)
    sweep_id = trackwell.sweep({"method": "grid", "metric": {"name": "loss", "goal": "maximize"},
                                "parameters": {"a": {"values": [3, 1, 2]}}}, project="api-proj")
    path = f"{live_server.entity}/api-proj/{sweep_id}"
    agent = function_agent(live_server.url, path, tmp_path / "agent")
    out, _ = agent.communicate(timeout=120)
    assert agent.returncode == 0, out
    sweep = Api(live_server.url).sweep(path)
    assert (sweep.state, sweep.expected_run_count, sweep.config["method"]) == ("finished", 3, "grid")
    assert sorted(r.config["a"] for r in sweep.runs) == [1, 2, 3]
    best = sweep.best_run()
    assert best is not None and best.config["a"] == 3  # maximize
    lowest = sweep.best_run(order="+loss")
    assert lowest is not None and lowest.config["a"] == 1
    assert repr(sweep) == f"<Sweep {path} (finished)>"
