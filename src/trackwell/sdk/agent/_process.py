"""`trackwell agent SWEEP_ID`: runs the sweep's command as a child process per run, one at a time.

Signals (W&B's ``wandb agent``): children start in their own process group, so a terminal's
Ctrl-C reaches only the agent. Ctrl-C once: no new runs, wait for the running one; twice: SIGTERM
it and wait ``term_timeout``; three times: SIGKILL it and quit. SIGTERM, SIGHUP or SIGQUIT: SIGTERM
the child, wait ``term_timeout``, SIGKILL it, quit. ``forward_signals``: every catchable signal is
also sent on to the child (a SLURM SIGUSR1 reaches the training script). A ``stop`` command from the
server: SIGTERM, then SIGKILL after ``TRACKWELL_AGENT_KILL_DELAY`` (30 s) if it is still alive.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from trackwell._env import env_float
from trackwell.sdk.agent._client import SweepClient, SweepPath
from trackwell.sdk.agent._command import expand
from trackwell.sdk.agent._function import files_root, heartbeat_interval, params_of, run_env
from trackwell.sdk.agent._guard import FailureGuard
from trackwell.sdk.agent._params import write_param_file

_SHUTDOWN = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
_NOT_FORWARDED = {signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD, signal.SIGINT}
# Children get a process group of their own: a terminal's Ctrl-C reaches only the agent.
_OWN_GROUP: dict[str, Any] = {"process_group": 0} if sys.version_info >= (3, 11) else {"preexec_fn": os.setpgrp}
_TIERS = ("ctrl-c received. Waiting for runs to end. Send ctrl-c again to terminate them.",
          "Terminating and syncing runs. Send shutdown signal again to kill.",
          "Killing runs and quitting.")


class _Child:
    def __init__(self, run_id: str, process: subprocess.Popen[bytes]) -> None:
        self.run_id, self.process = run_id, process
        self.stop_at: float | None = None  # when a stop command's SIGKILL is due
        self.stopped = False

    def signal(self, signum: int) -> None:
        if self.process.poll() is None:
            try:
                self.process.send_signal(signum)
            except ProcessLookupError:
                pass


class ProcessAgent:
    def __init__(self, client: SweepClient, path: SweepPath, *, count: int | None = None, forward_signals: bool = False,
                 term_timeout: float = 10.0, max_consecutive_failures: int | None = None, say: Any = None) -> None:
        self.client, self.path, self.count = client, path, count
        self.forward_signals, self.term_timeout = forward_signals, term_timeout
        self.kill_delay = env_float("TRACKWELL_AGENT_KILL_DELAY", 30.0)
        self.guard = FailureGuard(max_consecutive_failures)
        self.say = say or (lambda text: print(f"trackwell agent: {text}", file=sys.stderr, flush=True))
        self.child: _Child | None = None
        self.tier = 0  # Ctrl-C presses so far
        self.shutdown = False
        self.wake = threading.Event()
        self.started = 0
        self.exit_reason: str | None = None
        self.gave_up: str | None = None  # the failure guard's reason to stop

    # -- signals -------------------------------------------------------------------------------

    def _install(self) -> None:
        signal.signal(signal.SIGINT, self._on_interrupt)
        for signum in _SHUTDOWN:
            signal.signal(signum, self._on_shutdown)
        if not self.forward_signals:
            return
        for signum in signal.valid_signals():
            if signum in _NOT_FORWARDED or signum in _SHUTDOWN:
                continue
            try:
                signal.signal(signum, self._forward)
            except (OSError, ValueError, RuntimeError):
                pass  # not catchable here

    def _forward(self, signum: int, _frame: Any) -> None:
        if self.child is not None:
            self.child.signal(signum)

    def _on_interrupt(self, signum: int, _frame: Any) -> None:
        self.say(_TIERS[min(self.tier, 2)])
        self.tier += 1
        if self.tier >= 2 and self.child is not None:
            self.child.signal(signal.SIGKILL if self.tier >= 3 else signal.SIGTERM)
        self.wake.set()

    def _on_shutdown(self, signum: int, _frame: Any) -> None:
        self.say(f"{signal.Signals(signum).name} received: terminating the run and quitting")
        self.shutdown = True
        if self.child is not None:
            self.child.signal(signal.SIGTERM)  # the child's own signal, forwarded or not
        self.wake.set()

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> int:
        """Until the sweep ends, ``count`` runs ran, a signal, or the failure guard; returns how
        many runs it started."""
        self._install()
        agent = self.client.register(self.path, socket.gethostname(), os.getpid())
        agent_id = agent["agent_id"]
        self.say(f"agent {agent_id} on sweep {self.path}")
        try:
            self._loop(agent_id)
        finally:
            self._end_child()
            try:
                self.client.call("POST", f"{self.client._url(self.path)}/agents/{agent_id}/heartbeat",
                                 {"runs": {}, "done": True}, retry=False)
            except Exception:  # noqa: BLE001 - the slot frees itself after the agent timeout
                pass
        if self.exit_reason:
            self.say(self.exit_reason)
        return self.started

    def _loop(self, agent_id: str) -> None:
        while True:
            self._reap()
            if self.exit_reason is not None or self.shutdown or self.tier >= 3:
                return
            wanting = self.tier == 0 and (self.count is None or self.started < self.count)
            if self.child is None and not wanting:
                return
            alive = {self.child.run_id: True} if self.child is not None else {}
            try:
                commands = self.client.heartbeat(self.path, agent_id, alive)["commands"]
            except Exception as exc:  # noqa: BLE001 - the server may be restarting; keep the child
                self.say(f"heartbeat failed ({exc}); retrying")
                commands = []
            for command in commands:
                self._apply(command, wanting)
            self.wake.wait(heartbeat_interval())
            self.wake.clear()

    def _apply(self, command: dict[str, Any], wanting: bool) -> None:
        kind = command.get("type")
        if kind == "exit":
            if self.child is None:
                self.exit_reason = command.get("reason") or "the sweep has no more runs"
        elif kind == "stop" and self.child is not None and command.get("run_id") == self.child.run_id:
            if not self.child.stopped:
                self.say(f"stopping run {self.child.run_id} (stopped from the server)")
                self.child.stopped = True
                self.child.stop_at = time.monotonic() + self.kill_delay
                self.child.signal(signal.SIGTERM)
        elif kind in ("run", "resume") and self.child is None and wanting:
            self._start(command)

    def _start(self, command: dict[str, Any]) -> None:
        run_id = command["run_id"]
        params = params_of(command)
        root = files_root()
        param_path = write_param_file(root, self.path.sweep_id, run_id, params)
        argv = expand(command.get("command"), command.get("program"), params,
                      root / f"sweep-{self.path.sweep_id}" / f"args-{run_id}.json")
        env = {**os.environ, **run_env(self.client, self.path, run_id, param_path)}
        verb = "resuming preempted run" if command.get("type") == "resume" else "starting run"
        self.say(f"{verb} {run_id}: {' '.join(argv)}")
        process = subprocess.Popen(argv, env=env, **_OWN_GROUP)  # type: ignore[call-overload]
        self.child = _Child(run_id, process)
        self.started += 1

    def _reap(self) -> None:
        child = self.child
        if child is None:
            return
        code = child.process.poll()
        if code is None:
            if child.stop_at is not None and time.monotonic() > child.stop_at:
                child.signal(signal.SIGKILL)
            return
        self.child = None
        self.say(f"run {child.run_id} exited with {code}")
        reason = self.guard.record(code != 0 and not child.stopped)
        if reason is not None:
            self.gave_up = self.exit_reason = f"stopping: {reason}"

    def _end_child(self) -> None:
        """On the way out: the child gets ``term_timeout`` after its SIGTERM, then SIGKILL."""
        child = self.child
        if child is None:
            return
        if self.shutdown or self.tier >= 2:
            try:
                child.process.wait(self.term_timeout)
            except subprocess.TimeoutExpired:
                self.say(f"run {child.run_id} still alive {self.term_timeout:g} s after SIGTERM: killing it")
                child.signal(signal.SIGKILL)
        child.process.wait()
        self._reap()
