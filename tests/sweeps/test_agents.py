"""Real agent processes against a real server: 20 function agents on a 60-point grid, the 21st
agent refused, hyperband stopping runs, the function agent's config injection."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from agents import cli_agent, function_agent
from servers import LiveServer, get_run, http, scan_rows, start_server
from sweep_api import SweepApi, grid_60


def _wait(procs: list, timeout: float) -> list[str]:
    outputs = []
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            out, _ = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except Exception:
            p.kill()
            out, _ = p.communicate()
            raise AssertionError(f"agent {p.pid} did not finish:\n{out[-3000:]}") from None
        outputs.append(out)
        assert p.returncode == 0, out[-3000:]
    return outputs


def test_20_agent_processes_run_a_60_point_grid_exactly(live_server: LiveServer, tmp_path: Path) -> None:
    api = SweepApi.create(live_server, grid_60())
    procs = [function_agent(live_server.url, api.path, tmp_path / f"agent{i}") for i in range(20)]
    _wait(procs, 240)
    runs = api.runs()
    combos = sorted((r["params"]["a"], r["params"]["b"], r["params"]["c"]) for r in runs)
    assert combos == sorted(itertools.product([1, 2, 3, 4, 5], [0, 1, 2, 3], ["x", "y", "z"]))
    assert {r["state"] for r in runs} == {"finished"}, [r for r in runs if r["state"] != "finished"][:3]
    assert len({r["agent_id"] for r in runs}) > 1
    sweep = api.get()
    assert (sweep["state"], sweep["run_count"]) == ("finished", 60)
    # the sweep's values won over init(config=...)'s defaults; keys the sweep does not set stay
    run = get_run(live_server.url, f"{api.entity}/{api.project}/{runs[0]['id']}")
    assert run["config"] == {**runs[0]["params"], "kept": "yes"}
    assert sweep["best_run"]["value"] == 1.0


def test_the_21st_agent_is_refused_and_a_lapsed_agent_frees_its_slot(tmp_path: Path) -> None:
    # the timeout must outlast starting the CLI agent's process below on a loaded machine
    live = start_server(tmp_path / "server", "--sweep-agent-timeout", "10")
    try:
        api = SweepApi.create(live, {"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}})
        agents = [api.register().json()["agent_id"] for _ in range(20)]
        r = api.register()
        assert r.status_code == 409
        detail = r.json()["detail"]
        assert "already has 20 active agents" in detail and "--max-sweep-agents" in detail
        for agent in agents:  # alive: the CLI agent below starts within the timeout
            assert api.heartbeat(agent).status_code == 200
        refused = cli_agent(live.url, api.path, tmp_path / "cli")
        out, _ = refused.communicate(timeout=60)
        assert refused.returncode == 1 and "--max-sweep-agents" in out, out
        api.heartbeat(agents[0], done=True)  # an agent that quits frees its slot at once
        assert api.register().status_code == 200
        assert api.register().status_code == 409
        time.sleep(10.5)  # every agent silent past the timeout: their slots are free
        assert api.register().status_code == 200
        r = api.heartbeat(agents[1])  # a lapsed agent comes back only while there is room
        assert r.status_code == 200
    finally:
        live.stop()


def test_hyperband_stops_the_runs_it_should(live_server: LiveServer, tmp_path: Path) -> None:
    """loss = a, logged 20 times: a=1 runs first and finishes; at band 3 (the third log) each later
    run is worse than the 1/eta quantile of the runs so far and is stopped, ending killed with the
    reason visible (the threshold for a=2 is 1; for a=3, of 1, 2 and 3, it is 2)."""
    api = SweepApi.create(live_server, {
        "method": "grid", "metric": {"name": "loss", "goal": "minimize"},
        "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 3},
        "parameters": {"a": {"values": [1, 2, 3]}}})
    _wait([function_agent(live_server.url, api.path, tmp_path / "agent", logs=20, sleep=0.15)], 180)
    runs = {r["params"]["a"]: r for r in api.runs()}
    assert runs[1]["state"] == "finished" and runs[1]["stop_reason"] is None
    for a in (2, 3):
        assert runs[a]["state"] == "killed", runs[a]
        assert runs[a]["stop_reason"] == f"hyperband: loss = {a} at log 3 is worse than the band's threshold {a - 1} (eta 3)"
        rows = scan_rows(live_server.url, f"{api.entity}/{api.project}/{runs[a]['id']}")
        assert 3 <= len(rows) < 20
    events = http.get(f"{live_server.url}/api/v1/runs/{api.entity}/{api.project}/{runs[2]['id']}/events").json()
    assert any(e.get("kind") == "run_killed" and e.get("actor") == f"sweep {api.sweep_id}"
               for e in events.get("events", events if isinstance(events, list) else []))
    assert api.get()["state"] == "finished"


def test_metric_target_reached_finishes_the_sweep(live_server: LiveServer, tmp_path: Path) -> None:
    api = SweepApi.create(live_server, {"method": "random", "run_cap": 60,
                                        "metric": {"name": "loss", "goal": "minimize", "target": 2},
                                        "parameters": {"a": {"values": [1, 2, 3, 4, 5]}}})
    _wait([function_agent(live_server.url, api.path, tmp_path / "agent")], 180)
    sweep = api.get()
    assert sweep["state"] == "finished"
    assert sweep["reason"].startswith("metric.target reached: run ")
    runs = api.runs()
    assert [r["value"] <= 2 for r in runs].count(True) == 1 and runs[-1]["value"] <= 2  # the last run reached it
