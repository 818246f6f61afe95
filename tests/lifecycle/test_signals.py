"""Real signals at real child processes: after each, the server holds what the process logged
(everything; for SIGKILL, everything up to the journal's last flush) and the state is right."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from lifecycle_helpers import Child, get_run, rows, sync, wait_for_state

from trackwell.schema import History
from trackwell.sdk.journal import JournalReader


def _start_loop(tmp_path: Path, url: str, **init: Any) -> tuple[Child, dict[str, Any]]:
    child = Child(tmp_path, url, {"init": init, "steps": 50, "then": "loop"})
    ready = child.line()
    time.sleep(0.3)  # logging, uploading and heartbeating
    return child, ready


def _assert_everything_logged(url: str, child: Child, run_id: str) -> None:
    about, done = child.logged()
    steps = [r["_step"] for r in rows(url, run_id)]
    assert steps == list(range(len(steps)))  # gap-free, duplicate-free
    assert steps[-1] in (done, about)  # the signal may land between the two markers of one step
    assert [r["i"] for r in rows(url, run_id)] == steps


@pytest.mark.parametrize(("signum", "preempt", "state"), [
    (signal.SIGTERM, False, "failed"),
    (signal.SIGINT, False, "failed"),
    (signal.SIGUSR1, False, "failed"),
    (signal.SIGUSR1, True, "preempted"),
])
def test_signal_flushes_everything_and_records_128_plus_signum(server: Any, tmp_path: Path, signum: int,
                                                               preempt: bool, state: str) -> None:
    settings = {"preempt_signals": ["SIGUSR1"]} if preempt else {}
    child, ready = _start_loop(tmp_path, server.url, settings=settings)
    os.kill(child.proc.pid, signum)
    status = child.wait()
    # the previous handler is honoured: the default action (or KeyboardInterrupt for SIGINT)
    assert status == -signum, child.stderr()
    run = get_run(server.url, ready["id"])
    assert (run["state"], run["exit_code"]) == (state, 128 + signum)
    _assert_everything_logged(server.url, child, ready["id"])


def test_previous_python_handler_is_still_called(server: Any, tmp_path: Path) -> None:
    script = tmp_path / "handler.py"
    script.write_text(
        "import signal, sys, time, trackwell\n"
        "signal.signal(signal.SIGTERM, lambda s, f: (print('user handler', flush=True), sys.exit(3)))\n"
        "run = trackwell.init(project='life')\n"
        "print('ready', run.id, flush=True)\n"
        "i = 0\n"
        "while True:\n"
        "    run.log({'i': i}); i += 1; time.sleep(0.002)\n")
    import subprocess
    import sys

    env = {**os.environ, "TRACKWELL_BASE_URL": server.url, "TRACKWELL_QUIET": "1"}
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    run_id = proc.stdout.readline().split()[1]
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 3 and "user handler" in proc.stdout.read()
    run = get_run(server.url, run_id)
    assert (run["state"], run["exit_code"]) == ("failed", 3)  # the user's handler decided the exit
    steps = [r["_step"] for r in rows(server.url, run_id)]
    assert steps == list(range(len(steps))) and len(steps) > 10


def test_sigkill_loses_at_most_the_last_flush_and_is_seen_as_crashed(server: Any, tmp_path: Path) -> None:
    child, ready = _start_loop(tmp_path, server.url)
    os.kill(child.proc.pid, signal.SIGKILL)
    child.wait()
    wait_for_state(server.url, ready["id"], "crashed")  # no heartbeat for the crash timeout
    journal = Path(ready["journal"])
    journaled = [r.step for r in JournalReader(journal).records() if isinstance(r, History)]
    about, _ = child.logged()
    assert journaled == list(range(len(journaled))) and journaled[-1] <= about
    out = sync(journal, url=server.url)  # the uploader may not have caught up: deliver the rest
    assert out.returncode == 0, out.stdout + out.stderr
    assert [r["_step"] for r in rows(server.url, ready["id"])] == journaled
    wait_for_state(server.url, ready["id"], "crashed")
