"""log() from several threads, and a forked child of a process with a live run (issue 7, finding 3
and the fork half of 5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sdk_helpers import get_run, history, scan_rows


def test_log_from_threads_gives_each_call_its_own_increasing_step(offline_run: Callable[..., Any]) -> None:
    run = offline_run()
    threads, calls = 4, 5000
    start = threading.Barrier(threads)

    def work(t: int) -> None:
        start.wait()
        for i in range(calls):
            run.log({"t": t, "i": i})

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show up every time
    try:
        workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        sys.setswitchinterval(switch)
    assert run.step == threads * calls
    run.finish()
    rows = history(run.journal_path())
    # one row per call, steps unique and never going backwards in the journal
    assert [r.step for r in rows] == list(range(threads * calls))
    for t in range(threads):
        mine = [r for r in rows if r.data["t"] == t]
        assert [r.data["i"] for r in mine] == list(range(calls))  # each thread's calls in its order


_FORKING_SCRIPT = """
import json, os, sys, tempfile, trackwell
from trackwell.sdk.journal import synced_path
from trackwell.sdk.rundir import resume_file, writer_alive

run = trackwell.init(project="fork", settings={"console": "off"})
for i in range(5):
    run.log({"i": i})
pid = os.fork()
if pid == 0:  # the child: its calls must not vanish silently, nor touch the parent's files
    run.log({"child": 1})
    trackwell.log({"child": 2})
    run.summary["child"] = 3
    run.finish()
    child = trackwell.init(project="fork", dir=tempfile.mkdtemp(), settings={"console": "off"})
    child.log({"own": 1})
    child.finish()
    print(json.dumps({"child_run": child.id}), flush=True)
    sys.exit(0)  # a normal exit: atexit runs in the child too
_, status = os.waitpid(pid, 0)
journal = run.journal_path()
facts = {"child_status": os.waitstatus_to_exitcode(status), "resume_json": resume_file(None).exists(),
         "locked": writer_alive(journal), "synced": synced_path(journal).exists()}
for i in range(5, 10):
    run.log({"i": i})
run.finish()
print(json.dumps({"id": run.id, **facts}), flush=True)
"""


def test_forked_child_is_refused_with_one_warning_and_leaves_the_parent_alone(live_server: Any,
                                                                              tmp_path: Path) -> None:
    env = {**os.environ, "TRACKWELL_BASE_URL": live_server.url, "TRACKWELL_QUIET": "1",
           "TRACKWELL_FLUSH_INTERVAL": "0.1"}
    proc = subprocess.run([sys.executable, "-c", _FORKING_SCRIPT], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    child, parent = lines
    assert parent == {"id": parent["id"], "child_status": 0, "resume_json": True, "locked": True,
                      "synced": False}, proc.stderr
    warning = f"run {parent['id']} belongs to the parent process pid"
    assert proc.stderr.count(warning) == 1, proc.stderr
    assert "call trackwell.init() in the child" in proc.stderr
    rows = scan_rows(live_server.url, live_server.entity, "fork", parent["id"])
    assert [(r["_step"], r["i"]) for r in rows] == [(i, i) for i in range(10)]
    assert not any("child" in r for r in rows)
    run = get_run(live_server.url, live_server.entity, "fork", parent["id"])
    assert run["state"] == "finished" and "child" not in run["summary"]
    # trackwell.init() in the child starts a run of its own
    assert [r["own"] for r in scan_rows(live_server.url, live_server.entity, "fork", child["child_run"])] == [1]
