"""The state diagram: running -> finished | failed | crashed (-> running) | preempting ->
preempted | killed, seen through the query API as state and exit_code."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from lifecycle_helpers import (
    CRASH_TIMEOUT,
    Child,
    get_run,
    rows,
    run_child,
    run_path,
    wait_for_rows,
    wait_for_state,
    wait_until,
)
from servers import http

import trackwell


def test_query_api_shows_state_and_exit_code(server: Any, tmp_path: Path) -> None:
    _, ready, err = run_child(tmp_path, server.url, {"init": {}, "steps": 2, "then": "sys.exit", "code": 9})
    assert ready is not None, err
    run = trackwell.Api(server.url).run(run_path(server.url, ready["id"]))
    assert (run.state, run.exit_code) == ("failed", 9)


def test_running_while_heartbeating_then_crashed_then_running_again(server: Any, tmp_path: Path) -> None:
    child = Child(tmp_path, server.url, {"init": {}, "steps": 3, "then": "sleep", "sleep": 30})
    ready = child.line()
    first = wait_for_rows(server.url, ready["id"], count=3)[-1]["_timestamp"]
    # idle for twice the crash timeout, but heartbeats keep it alive
    wait_until(lambda: get_run(server.url, ready["id"])["heartbeat_at"] > first + CRASH_TIMEOUT * 2,
               timeout=CRASH_TIMEOUT * 10, what="heartbeats past twice the crash timeout")
    assert get_run(server.url, ready["id"])["state"] == "running"
    os.kill(child.proc.pid, signal.SIGSTOP)  # a partition: the process is silent
    try:
        crashed = wait_for_state(server.url, ready["id"], "crashed", timeout=CRASH_TIMEOUT * 4)
        assert crashed["exit_code"] is None
    finally:
        os.kill(child.proc.pid, signal.SIGCONT)
    wait_for_state(server.url, ready["id"], "running", timeout=5)  # it sends again: back to running
    os.kill(child.proc.pid, signal.SIGTERM)
    assert child.wait() == -signal.SIGTERM
    assert get_run(server.url, ready["id"])["state"] == "failed"


def test_mark_preempting_reaches_the_server_at_once_then_preempted(server: Any, tmp_path: Path) -> None:
    # a flush interval of 1 s: the journaled record alone could not get there this fast
    child = Child(tmp_path, server.url, {"init": {}, "steps": 3, "then": "preempt", "sleep": 1.5, "code": 1},
                  env={"TRACKWELL_FLUSH_INTERVAL": "1"})
    ready = child.line()
    child.line()  # mark_preempting() returned
    assert get_run(server.url, ready["id"])["state"] == "preempting"
    assert child.wait() == 1
    run = get_run(server.url, ready["id"])
    assert (run["state"], run["exit_code"]) == ("preempted", 1)


def test_preempting_then_exit_0_is_finished(server: Any, tmp_path: Path) -> None:
    status, ready, err = run_child(tmp_path, server.url, {"init": {}, "then": "preempt", "sleep": 0, "code": 0})
    assert status == 0 and ready is not None, err
    assert get_run(server.url, ready["id"])["state"] == "finished"


def test_silent_preempting_run_becomes_preempted(server: Any, tmp_path: Path) -> None:
    child = Child(tmp_path, server.url, {"init": {}, "then": "preempt", "sleep": 30})
    ready = child.line()
    child.line()
    os.kill(child.proc.pid, signal.SIGKILL)  # the scheduler's grace period ran out
    child.wait()
    wait_for_state(server.url, ready["id"], "preempted", timeout=CRASH_TIMEOUT * 4)


def test_stopped_through_the_api_the_client_finishes_and_exits(server: Any, tmp_path: Path) -> None:
    child = Child(tmp_path, server.url, {"init": {}, "steps": 10, "then": "loop"})
    ready = child.line()
    wait_for_rows(server.url, ready["id"], count=20)
    api_run = trackwell.Api(server.url).run(run_path(server.url, ready["id"])).stop()
    assert api_run.state == "killed"
    status = child.wait(30)
    err = child.stderr()
    assert status != 0 and "was stopped from the server" in err and "Traceback" not in err, err
    run = get_run(server.url, ready["id"])
    assert (run["state"], run["exit_code"]) == ("killed", 255)  # the exit keeps the state
    about, done = child.logged()
    steps = [r["_step"] for r in rows(server.url, ready["id"])]
    assert steps == list(range(len(steps))) and steps[-1] in (about, done)  # nothing lost
    again = http.post(f"{server.url}/api/v1/runs/{run_path(server.url, ready['id'])}/stop", timeout=10)
    assert again.status_code == 200  # stopping a killed run again is harmless


def test_stopping_an_ended_run_is_a_conflict(server: Any, tmp_path: Path) -> None:
    _, ready, err = run_child(tmp_path, server.url, {"init": {}, "steps": 1})
    assert ready is not None, err
    r = http.post(f"{server.url}/api/v1/runs/{run_path(server.url, ready['id'])}/stop", timeout=10)
    assert r.status_code == 409 and "already ended (finished)" in r.json()["detail"]
    r = http.post(f"{server.url}/api/v1/runs/{run_path(server.url, 'nosuchrun')}/stop", timeout=10)
    assert r.status_code == 404
