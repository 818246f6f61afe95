"""One owner per step, through the SDK in real child processes: a second live writer of a run is
refused at init naming the first; a crashed writer's run resumes at once from the same
directory; shared-mode writers keep their histories apart; offline resumes synced out of order
keep the run's chronology."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from lifecycle_helpers import FAST, Child, rows, run_child, wait_until
from servers import LiveServer


def _id() -> str:
    return "w" + uuid.uuid4().hex[:10]


def test_four_ranks_with_one_id_one_writes_the_others_are_told(tmp_path: Path, server: LiveServer) -> None:
    """The usual DDP mistake: every rank calls init(id=...). Before, 400 points per key landed on
    100 steps, ranks mixed; now one rank writes and three fail at init, naming it."""
    run_id = _id()
    spec = {"init": {"id": run_id}, "steps": 0, "then": "sleep", "sleep": 30}
    holder = Child(tmp_path, server.url, spec)
    holder.line()  # it holds the run
    results = [run_child(tmp_path, server.url, {"init": {"id": run_id}, "steps": 100}) for _ in range(3)]
    for code, ready, err in results:
        assert code != 0 and ready is None
        assert f"pid {holder.proc.pid}" in err and "mode': 'shared'" in err, err
    holder.proc.send_signal(signal.SIGTERM)
    holder.wait()
    assert rows(server.url, run_id) == []  # nobody else's steps got in


def test_resume_while_the_old_process_lives_is_refused(tmp_path: Path, server: LiveServer) -> None:
    run_id = _id()
    (tmp_path / "a").mkdir()  # its own directory: the resume below cannot see its journal
    old = Child(tmp_path / "a", server.url, {"init": {"id": run_id}, "steps": 10, "then": "sleep", "sleep": 30})
    old.line()
    code, ready, err = run_child(tmp_path, server.url, {"init": {"id": run_id, "resume": "must"}, "steps": 5})
    assert code != 0 and ready is None and "is being written by" in err, err
    old.proc.send_signal(signal.SIGTERM)
    assert old.wait() != 0
    code, ready, err = run_child(tmp_path, server.url, {"init": {"id": run_id, "resume": "must"}, "steps": 5})
    assert code == 0 and ready is not None and ready["starting_step"] == 10, err
    assert [r["i"] for r in rows(server.url, run_id)] == list(range(15))


def test_a_killed_writer_is_resumed_at_once_from_its_directory(tmp_path: Path, server: LiveServer) -> None:
    """kill -9 leaves the lease live, but the next process finds the dead journal on its disk."""
    run_id = _id()
    child = Child(tmp_path, server.url, {"init": {"id": run_id}, "steps": 20, "then": "sleep", "sleep": 60})
    child.line()
    wait_until(lambda: len(rows(server.url, run_id)) == 20, what="20 rows delivered")
    child.proc.kill()
    child.wait()
    code, ready, err = run_child(tmp_path, server.url, {"init": {"id": run_id, "resume": "allow"}, "steps": 5})
    assert code == 0 and ready is not None and ready["starting_step"] == 20, err
    assert [r["i"] for r in rows(server.url, run_id)] == list(range(25))


def test_shared_writers_keep_their_histories_apart(tmp_path: Path, server: LiveServer) -> None:
    run_id = _id()
    primary = Child(tmp_path, server.url, {"init": {"id": run_id, "settings": {"mode": "shared", "x_label": "rank-0"}},
                                           "steps": 5, "then": "sleep", "sleep": 30})
    primary.line()
    code, ready, err = run_child(tmp_path, server.url, {
        "init": {"id": run_id, "settings": {"mode": "shared", "x_label": "rank-1", "x_primary": False}},
        "steps": 5})
    assert code == 0 and ready is not None, err
    primary.proc.send_signal(signal.SIGTERM)
    primary.wait()
    got = rows(server.url, run_id)
    assert [r["i"] for r in got if "i" in r] == list(range(5))  # the primary's, under its own names
    assert [r["rank-1/i"] for r in got if "rank-1/i" in r] == [float(s) for s in range(5, 10)]


def test_offline_resumes_synced_in_the_wrong_order_keep_the_chronology(tmp_path: Path, server: LiveServer) -> None:
    """Process 2 resumed process 1 offline; syncing 2's journal first used to put its rows at
    steps 0..49 and 1's after them. The server now waits for 1 (RunStart.after)."""
    run_id = _id()
    env = {"TRACKWELL_MODE": "offline"}
    code, first, err = run_child(tmp_path, server.url, {"init": {"id": run_id}, "steps": 50}, env)
    assert code == 0 and first is not None, err
    code, second, err = run_child(tmp_path, server.url, {"init": {"id": run_id, "resume": "allow"}, "steps": 50}, env)
    assert code == 0 and second is not None, err
    sync_env = {**os.environ, **FAST, "TRACKWELL_BASE_URL": server.url}
    for journal in (second["journal"], first["journal"]):  # the wrong order
        out = subprocess.run([sys.executable, "-m", "trackwell", "sync", str(Path(journal).parent)],
                             env=sync_env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
    got = wait_until(lambda: (r := rows(server.url, run_id)) and len(r) == 100 and r, what="100 rows")
    assert [r["_step"] for r in got] == list(range(100))
    # Both processes logged i = 0..49 from their own step 0: process 1's rows come first.
    assert [r["i"] for r in got] == [float(i) for i in range(50)] * 2
    assert json.dumps(got[50]["_runtime"]) and got[50]["_runtime"] >= got[49]["_runtime"]
