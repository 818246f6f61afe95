"""`trackwell agent` with real training scripts as child processes: preemption (SIGUSR1 forwarded,
``mark_preempting()``, requeued, resumed by another agent with the same id and contiguous steps),
signal forwarding and Ctrl-C tiers, and the flapping guard."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from agents import cli_agent
from servers import LiveServer, scan_rows
from sweep_api import SweepApi

TRAIN = textwrap.dedent("""
    import os, signal, sys, time
    import trackwell

    run = trackwell.init()
    marker = os.environ["MARKER"]

    def preempted(signum, frame):
        run.mark_preempting()  # checkpoint here; the run is requeued for another agent
        sys.exit(128 + signum)

    def noted(signum, frame):
        with open(marker + ".signals", "a") as f:
            f.write(signal.Signals(signum).name + "\\n")
        if signum == signal.SIGTERM and not run.config.get("stubborn"):
            sys.exit(128 + signum)

    signal.signal(signal.SIGUSR1, preempted)
    signal.signal(signal.SIGUSR2, noted)
    signal.signal(signal.SIGTERM, noted)
    steps = int(run.config["steps"])
    for i in range(run.starting_step, steps):
        run.log({"i": i, "loss": 1.0 / (i + 1)})
        if i == 5:
            with open(marker, "a") as f:
                f.write(f"{run.id} {'resumed' if run.resumed else 'new'}\\n")
        time.sleep(float(run.config["sleep"]))
    run.finish()
""")


def _sweep(live: LiveServer, tmp_path: Path, steps: int, sleep: float, stubborn: bool = False) -> SweepApi:
    script = tmp_path / "train.py"
    script.write_text(TRAIN)
    return SweepApi.create(live, {"method": "grid", "program": str(script), "parameters": {
        "steps": {"value": steps}, "sleep": {"value": sleep}, "stubborn": {"value": stubborn}}})


def _until(check, timeout: float = 60, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _agent(live: LiveServer, api: SweepApi, workdir: Path, *args: str) -> subprocess.Popen[str]:
    os.environ["MARKER"] = str(workdir.parent / "marker")  # inherited by the agent and its child
    try:
        return cli_agent(live.url, api.path, workdir, *args, start_new_session=True)
    finally:
        del os.environ["MARKER"]


def test_preempted_run_is_requeued_and_resumed_by_another_agent(live_server: LiveServer, tmp_path: Path) -> None:
    api = _sweep(live_server, tmp_path, steps=30, sleep=0.05)
    marker = tmp_path / "marker"
    first = _agent(live_server, api, tmp_path / "a1", "--forward-signals", "--count", "1")
    _until(marker.exists, what="the run's step 5")
    os.kill(first.pid, signal.SIGUSR1)  # a SLURM-style preemption notice, forwarded to the run
    out1, _ = first.communicate(timeout=60)
    assert first.returncode == 0, out1
    (run,) = api.runs()
    assert "exited with 138" in out1
    _until(lambda: api.runs()[0]["state"] == "preempted", what="the run to be preempted")
    second = _agent(live_server, api, tmp_path / "a2")
    out2, _ = second.communicate(timeout=90)
    assert second.returncode == 0, out2
    assert f"resuming preempted run {run['id']}" in out2
    (after,) = api.runs()
    assert (after["id"], after["state"], after["resumes"]) == (run["id"], "finished", 1)
    assert marker.read_text().split() == [run["id"], "new"]  # the resumed process started past step 5
    rows = scan_rows(live_server.url, f"{api.entity}/{api.project}/{run['id']}")
    assert [r["_step"] for r in rows] == list(range(30))  # one history, continued at last step + 1
    assert [r["i"] for r in rows] == list(range(30))
    assert api.get()["state"] == "finished"


def test_forward_signals_delivers_signals_and_sigterm_shuts_down(live_server: LiveServer, tmp_path: Path) -> None:
    api = _sweep(live_server, tmp_path, steps=400, sleep=0.05)
    marker = tmp_path / "marker"
    agent = _agent(live_server, api, tmp_path / "a1", "--forward-signals", "--term-timeout", "20")
    _until(marker.exists, what="the run's step 5")
    os.kill(agent.pid, signal.SIGUSR2)
    _until(lambda: Path(str(marker) + ".signals").exists(), what="SIGUSR2 at the child")
    os.kill(agent.pid, signal.SIGTERM)
    out, _ = agent.communicate(timeout=60)
    assert Path(str(marker) + ".signals").read_text().split() == ["SIGUSR2", "SIGTERM"]
    assert "exited with 143" in out
    assert api.runs()[0]["state"] == "failed"


def test_ctrl_c_tiers(live_server: LiveServer, tmp_path: Path) -> None:
    """Ctrl-C reaches the agent's process group only (the child has its own); once: the run goes on
    and the agent waits for it; twice: the run gets SIGTERM."""
    api = _sweep(live_server, tmp_path, steps=400, sleep=0.05)
    marker = tmp_path / "marker"
    agent = _agent(live_server, api, tmp_path / "a1")
    _until(marker.exists, what="the run's step 5")
    os.killpg(agent.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    time.sleep(1.0)
    assert agent.poll() is None and not Path(str(marker) + ".signals").exists()
    os.killpg(agent.pid, signal.SIGINT)
    out, _ = agent.communicate(timeout=60)
    assert "Waiting for runs to end" in out and "Terminating and syncing runs" in out
    assert Path(str(marker) + ".signals").read_text().split() == ["SIGTERM"]


def test_a_third_ctrl_c_kills_a_run_that_ignores_sigterm(live_server: LiveServer, tmp_path: Path) -> None:
    api = _sweep(live_server, tmp_path, steps=400, sleep=0.05, stubborn=True)
    marker = tmp_path / "marker"
    signals = Path(str(marker) + ".signals")
    agent = _agent(live_server, api, tmp_path / "a1")
    _until(marker.exists, what="the run's step 5")
    os.killpg(agent.pid, signal.SIGINT)
    time.sleep(0.5)
    os.killpg(agent.pid, signal.SIGINT)
    _until(signals.exists, what="SIGTERM at the child")
    assert agent.poll() is None  # the run ignores SIGTERM: the agent still waits for it
    os.killpg(agent.pid, signal.SIGINT)
    out, _ = agent.communicate(timeout=60)
    assert "Killing runs and quitting." in out and "exited with -9" in out
    assert signals.read_text().split() == ["SIGTERM"]


def test_flapping_guard_stops_an_agent_whose_runs_fail_at_once(live_server: LiveServer, tmp_path: Path) -> None:
    api = SweepApi.create(live_server, {"method": "grid", "command": [sys.executable, "-c", "raise SystemExit(3)"],
                                        "parameters": {"x": {"values": list(range(10))}}})
    agent = cli_agent(live_server.url, api.path, tmp_path / "a1")
    out, _ = agent.communicate(timeout=90)
    assert agent.returncode == 1
    assert "3 runs failed within 60 s of the agent's start (flapping)" in out
    assert len(api.runs()) == 3


def test_a_sigkilled_run_ends_crashed_and_is_not_requeued(tmp_path: Path) -> None:
    from servers import start_server

    live = start_server(tmp_path / "server", "--crash-timeout", "2")
    try:
        api = _sweep(live, tmp_path, steps=400, sleep=0.05)
        agent = _agent(live, api, tmp_path / "a1")
        _until((tmp_path / "marker").exists, what="the run's step 5")
        (child,) = Path(f"/proc/{agent.pid}/task/{agent.pid}/children").read_text().split()
        os.kill(int(child), signal.SIGKILL)
        out, _ = agent.communicate(timeout=60)  # the sweep ends once the reaper has crashed the run
        assert agent.returncode == 0, out
        assert "exited with -9" in out and "resuming" not in out
        (run,) = api.runs()
        assert (run["state"], run["resumes"]) == ("crashed", 0)
        assert api.get()["state"] == "finished"
    finally:
        live.stop()


def test_canceling_the_sweep_stops_the_running_child(live_server: LiveServer, tmp_path: Path) -> None:
    """Canceling kills the sweep's running runs; the agent SIGTERMs its child (SIGKILL only after
    the kill delay) and quits; the run ends killed with the reason."""
    api = _sweep(live_server, tmp_path, steps=400, sleep=0.05)
    marker = tmp_path / "marker"
    agent = _agent(live_server, api, tmp_path / "a1")
    _until(marker.exists, what="the run's step 5")
    # wait for its first upload: a stop that lands before it is undone when its RunStart is applied
    path = f"{api.entity}/{api.project}/{marker.read_text().split()[0]}"
    _until(lambda: len(scan_rows(live_server.url, path)) > 0, what="the run's first upload")
    assert api.control("cancel").json()["state"] == "canceled"
    out, _ = agent.communicate(timeout=60)
    assert agent.returncode == 0, out
    assert "is canceled" in out and f"run {api.runs()[0]['id']} exited with" in out
    # the child ends by the agent's SIGTERM, or first by its own SDK hearing "killed" in an upload's answer
    signals = Path(str(marker) + ".signals")
    assert "(stopped from the server)" in out or not signals.exists()
    assert not signals.exists() or signals.read_text().split() == ["SIGTERM"]
    (run,) = api.runs()
    assert run["state"] == "killed" and run["stop_reason"] == f"sweep {api.sweep_id} canceled"
