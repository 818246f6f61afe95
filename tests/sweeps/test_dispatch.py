"""The controller over REST on a real server (SQLite and PostgreSQL): dispatch is transactional
(25 agents racing on a 60-point grid get exactly the 60 combinations; run_cap exact under 10
agents), the state changes, and bad input answered with 4xx naming the problem."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from servers import LiveServer, http, start_server
from sweep_api import SweepApi, grid_60

from trackwell.schema import Batch, RunStart, encode


def _race(api: SweepApi, agents: int) -> list[tuple[str, str, dict[str, Any]]]:
    """``agents`` threads, each an agent asking for runs as fast as the server answers (each run
    'ends' at once) until told to exit; returns (agent, run id, params) of every run handed out."""
    got: list[tuple[str, str, dict[str, Any]]] = []
    errors: list[str] = []
    start = threading.Barrier(agents)

    def agent() -> None:
        r = api.register()
        if r.status_code != 200:
            errors.append(r.text)
            return
        agent_id = r.json()["agent_id"]
        start.wait()
        for _ in range(500):
            r = api.heartbeat(agent_id)
            if r.status_code != 200:
                errors.append(r.text)
                return
            commands = r.json()["commands"]
            if any(c["type"] == "exit" for c in commands):
                return
            got.extend((agent_id, c["run_id"], c["args"]) for c in commands if c["type"] == "run")
        errors.append(f"agent {agent_id} never got exit")

    threads = [threading.Thread(target=agent) for _ in range(agents)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    return got


def test_25_racing_agents_get_the_exact_grid(sweep_server: LiveServer) -> None:
    api = SweepApi.create(sweep_server, grid_60())
    got = _race(api, 25)
    combos = [(p["a"]["value"], p["b"]["value"], p["c"]["value"]) for _, _, p in got]
    assert len(got) == 60, f"{len(got)} runs handed out for a 60-point grid"
    assert sorted(combos) == sorted(itertools.product([1, 2, 3, 4, 5], [0, 1, 2, 3], ["x", "y", "z"]))
    assert len({run_id for _, run_id, _ in got}) == 60
    assert len({agent for agent, _, _ in got}) > 1
    sweep = api.get()
    assert (sweep["state"], sweep["run_count"], sweep["expected_run_count"]) == ("finished", 60, 60)
    assert sweep["reason"] == "every grid combination ran"
    assert len(api.runs()) == 60


def test_run_cap_is_exact_under_10_agents(sweep_server: LiveServer) -> None:
    api = SweepApi.create(sweep_server, {"method": "random", "run_cap": 7,
                                         "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    got = _race(api, 10)
    assert len(got) == 7
    assert api.get()["state"] == "finished"
    assert api.get()["reason"] == "run_cap 7 reached"


def test_states_pause_resume_stop_cancel(sweep_server: LiveServer) -> None:
    api = SweepApi.create(sweep_server, {"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    agent = api.register().json()["agent_id"]
    assert api.control("pause").json()["state"] == "paused"
    assert api.heartbeat(agent).json() == {"commands": [], "state": "paused"}  # waits
    r = api.control("pause")
    assert r.status_code == 409 and "is paused" in r.json()["detail"]
    assert api.control("resume").json()["state"] == "running"
    first = api.heartbeat(agent).json()["commands"]
    assert [c["type"] for c in first] == ["run"]
    assert api.control("cancel").json()["state"] == "canceled"
    # the agent still runs its run: it is told to stop it, then to exit
    assert api.heartbeat(agent, {first[0]["run_id"]: True}).json()["commands"] == [
        {"type": "stop", "run_id": first[0]["run_id"]}]
    assert api.heartbeat(agent).json()["commands"][0]["type"] == "exit"
    r = api.control("resume")
    assert r.status_code == 409 and "canceled" in r.json()["detail"]
    other = SweepApi.create(sweep_server, {"method": "grid", "parameters": {"x": {"values": [1]}}})
    assert other.control("stop").json()["state"] == "finished"


def test_bad_input_is_a_4xx_naming_the_problem(sweep_server: LiveServer) -> None:
    api = SweepApi.create(sweep_server, {"method": "grid", "parameters": {"x": {"values": [1, 2]}}})
    r = http.post(api.base, json={"config": {"method": "grid", "parameters": {"x": {"min": 2, "max": 1}},
                                             "metric": {"goal": "up"}}})
    assert r.status_code == 400
    assert "parameters.x: min (2) is above max (1)" in r.json()["detail"]
    assert "metric.name" in r.json()["detail"] and "metric.goal" in r.json()["detail"]
    r = http.post(api.base, json={"config": "method: grid"})
    assert r.status_code == 422 and "config" in r.json()["detail"]
    r = http.post(api.base, json={"config": {"method": "grid"}, "prior_runs": ["no-such-run"]})
    assert r.status_code == 400 and "prior run" in r.json()["detail"] and "no-such-run" in r.json()["detail"]
    r = http.get(f"{api.base}/nosuchid")
    assert r.status_code == 404 and "trackwell sweep" in r.json()["detail"]
    r = api.heartbeat("not-an-agent")
    assert r.status_code == 404 and "trackwell agent" in r.json()["detail"]
    r = api.control("explode")
    assert r.status_code == 400 and "pause, resume, stop, cancel" in r.json()["detail"]
    r = http.post(f"{api.base}/{api.sweep_id}/agents/x/heartbeat", json={"runs": {"r": "yes"}})
    assert r.status_code == 422
    r = http.post(api.base, json={"config": {"method": "grid", "name": "a\x00b"}})
    assert r.status_code in (400, 422) and "NUL" in r.text or "nul" in r.text.lower()


def test_prior_runs_seed_the_grid(sweep_server: LiveServer) -> None:
    project = "prior-" + sweep_server.url.rsplit(":", 1)[1]
    for run_id, a in (("old1", 1), ("old2", 3)):
        r = http.put(f"{sweep_server.url}/api/v1/runs/{sweep_server.entity}/{project}/{run_id}",
                     json={"config": {"a": a, "other": True}})
        assert r.status_code == 200, r.text
    api = SweepApi.create(sweep_server, {"method": "grid", "parameters": {"a": {"values": [1, 2, 3, 4]}}},
                          prior_runs=["old1", "old2"], project=project)
    assert api.get()["run_count"] == 0
    agent = api.register().json()["agent_id"]
    handed = []
    while (commands := api.heartbeat(agent).json()["commands"])[0]["type"] == "run":
        handed.append(commands[0]["args"]["a"]["value"])
    assert handed == [2, 4]
    assert [(r["id"], r["status"]) for r in api.runs()][:2] == [("old1", "prior"), ("old2", "prior")]


def test_a_lapsed_agents_unstarted_run_goes_to_the_next_agent(tmp_path: Path) -> None:
    live = start_server(tmp_path / "server", "--sweep-agent-timeout", "1")
    try:
        api = SweepApi.create(live, {"method": "grid", "parameters": {"x": {"values": [1, 2]}}})
        first = api.register().json()["agent_id"]
        (given,) = api.heartbeat(first).json()["commands"]
        time.sleep(1.5)  # the agent died before its run started
        second = api.register().json()["agent_id"]
        (again,) = api.heartbeat(second).json()["commands"]
        assert (again["type"], again["run_id"], again["args"]) == ("resume", given["run_id"], given["args"])
        (other,) = api.heartbeat(second).json()["commands"]
        assert other["type"] == "run" and other["args"] == {"x": {"value": 2}}
    finally:
        live.stop()


def test_a_node_preempted_with_its_agent_requeues_the_run(tmp_path: Path) -> None:
    """The whole node goes (agent and run together): the run said it was being preempted, then
    fell silent; the reaper makes it preempted, the agent's slot lapses, and the next agent gets a
    resume of the same run with the same parameters."""
    live = start_server(tmp_path / "server", "--sweep-agent-timeout", "1", "--crash-timeout", "1")
    try:
        api = SweepApi.create(live, {"method": "grid", "parameters": {"x": {"values": [1, 2]}}})
        first = api.register().json()["agent_id"]
        (given,) = api.heartbeat(first).json()["commands"]
        run = f"{live.url}/api/v1/runs/{api.entity}/{api.project}/{given['run_id']}"
        start = RunStart(seq=1, ts=time.time(), entity=api.entity, project=api.project, run_id=given["run_id"],
                         config={"x": 1})
        r = http.post(f"{run}/records", content=encode(Batch(writer=uuid.uuid4().hex, records=[start])),
                      headers={"Content-Type": "application/msgpack"})
        assert r.status_code == 200, r.text
        assert http.post(f"{run}/preempting").json()["state"] == "preempting"
        deadline = time.monotonic() + 30
        while http.get(run).json()["state"] != "preempted":
            assert time.monotonic() < deadline, "the reaper never made the silent run preempted"
            time.sleep(0.2)
        second = api.register().json()["agent_id"]
        (again,) = api.heartbeat(second).json()["commands"]
        assert (again["type"], again["run_id"], again["args"], again["resumes"]) == (
            "resume", given["run_id"], given["args"], 1)
    finally:
        live.stop()
