"""Real signals at real child processes: after each, the server holds what the process logged
(everything; for SIGKILL, everything up to the journal's last flush) and the state is right."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lifecycle_helpers import Child, get_run, rows, sync, wait_for_rows, wait_for_state, wait_until
from servers import login

from trackwell.schema import Exit, History
from trackwell.sdk.journal import JournalReader


def _start_loop(tmp_path: Path, url: str, **init: Any) -> tuple[Child, dict[str, Any]]:
    child = Child(tmp_path, url, {"init": init, "steps": 50, "then": "loop"})
    ready = child.line()
    wait_for_rows(url, ready["id"], count=60)  # logging past the first steps, and uploading
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
    env = {**os.environ, "TRACKWELL_BASE_URL": server.url, "TRACKWELL_QUIET": "1"}
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    run_id = proc.stdout.readline().split()[1]
    wait_for_rows(server.url, run_id, count=10)
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


@pytest.fixture(params=["hung", "refusing"])
def unreachable_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A server address that never answers: a socket that accepts connections but never replies
    (a hung server or a black-holed network), or one that refuses them (a server that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        if request.param == "hung":
            sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_sigterm_with_the_server_unreachable_ends_within_the_grace(server: Any, tmp_path: Path,
                                                                   unreachable_url: str) -> None:
    _assert_ends_within_the_grace(server, tmp_path, unreachable_url, {}, -signal.SIGTERM, 128 + signal.SIGTERM)


@pytest.mark.parametrize("unreachable_url", ["hung"], indirect=True)
def test_sigterm_handled_by_the_script_also_ends_within_the_grace(server: Any, tmp_path: Path,
                                                                  unreachable_url: str) -> None:
    # the script's handler raises SystemExit: atexit finishes the run, on the signal's budget
    _assert_ends_within_the_grace(server, tmp_path, unreachable_url, {"sigterm_exit": 3}, 3, 3)


def _assert_ends_within_the_grace(server: Any, tmp_path: Path, url: str, spec: dict[str, Any], status: int,
                                  exit_code: int) -> None:
    # finish_timeout 60 s, signal_grace 2 s: Kubernetes kills 30 s after SIGTERM, so the grace,
    # not finish_timeout, must bound the wait for the server
    env = {"TRACKWELL_SIGNAL_GRACE": "2", "TRACKWELL_FINISH_TIMEOUT": "60", "TRACKWELL_INIT_TIMEOUT": "0.5"}
    login(url, like=server.url)  # the user's server, unreachable: the run is theirs all the same
    child = Child(tmp_path, url, {"init": {}, "steps": 50, "then": "loop", **spec}, env)
    ready = child.line()
    wait_until(lambda: child.logged()[1] >= 100, what="100 steps logged")
    os.kill(child.proc.pid, signal.SIGTERM)
    try:
        ended = child.wait(timeout=30)  # half of finish_timeout: only the grace can explain an exit
    except subprocess.TimeoutExpired:
        child.proc.kill()
        raise AssertionError("the run waited for the server past its signal grace") from None
    err = child.stderr()
    assert ended == status, err
    assert "signal's grace of 2.0 s ran out" in err and "trackwell sync" in err, err
    journal = Path(ready["journal"])
    records = JournalReader(journal).records()
    steps = [r.step for r in records if isinstance(r, History)]
    about, done = child.logged()
    assert steps == list(range(len(steps))) and steps[-1] in (about, done)  # everything journaled
    assert isinstance(records[-1], Exit) and records[-1].exit_code == exit_code
    out = sync(journal, url=server.url)  # what the grace left behind is delivered later
    assert out.returncode == 0, out.stdout + out.stderr
    assert [r["_step"] for r in rows(server.url, ready["id"])] == steps
