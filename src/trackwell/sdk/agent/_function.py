"""``trackwell.agent(sweep_id, function=...)``: runs ``function`` once per run the server hands
this agent, in this process. Inside it ``trackwell.init()`` picks up the run id, project and the
sweep's parameters (``_params``); a thread heartbeats while it runs. A run stopped from the
server (hyperband, a canceled sweep) interrupts the function the way the SDK stops any run; the
agent goes on with the next. A function that raises fails its run; the agent goes on too, until
its failure guard says stop."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from trackwell._env import env_float
from trackwell.sdk.agent._client import SweepClient, SweepPath
from trackwell.sdk.agent._guard import FailureGuard
from trackwell.sdk.agent._params import PARAM_ENV, SWEEP_ENV, write_param_file


def heartbeat_interval() -> float:
    return env_float("TRACKWELL_AGENT_HEARTBEAT", 2.0)


def run_env(client: SweepClient, path: SweepPath, run_id: str, param_path: Path) -> dict[str, str]:
    """What a sweep run's ``trackwell.init()`` reads (see ``_params.sweep_init_args``)."""
    return {"TRACKWELL_RUN_ID": run_id, SWEEP_ENV: path.sweep_id, PARAM_ENV: str(param_path),
            "TRACKWELL_PROJECT": path.project, "TRACKWELL_ENTITY": path.entity,
            "TRACKWELL_BASE_URL": client.client.base_url}


def params_of(command: dict[str, Any]) -> dict[str, Any]:
    return {k: v.get("value") if isinstance(v, dict) else v for k, v in (command.get("args") or {}).items()}


def files_root() -> Path:
    return Path(os.environ.get("TRACKWELL_DIR") or ".") / "trackwell"


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class _Beat(threading.Thread):
    """Heartbeats while the function runs, reporting its run alive."""

    def __init__(self, client: SweepClient, path: SweepPath, agent_id: str, run_id: str) -> None:
        super().__init__(name="trackwell-agent-heartbeat", daemon=True)
        self.client, self.path, self.agent_id, self.run_id = client, path, agent_id, run_id
        self.halt = threading.Event()
        self.stopped = False  # the server sent a stop for this run

    def run(self) -> None:
        while not self.halt.wait(heartbeat_interval()):
            try:
                answer = self.client.heartbeat(self.path, self.agent_id, {self.run_id: True})
            except Exception:  # noqa: BLE001 - a missed beat; the next one may get through
                continue
            if any(c.get("type") == "stop" and c.get("run_id") == self.run_id for c in answer["commands"]):
                self.stopped = True


class FunctionAgent:
    def __init__(self, client: SweepClient, path: SweepPath, function: Callable[[], Any], count: int | None) -> None:
        self.client, self.path, self.function, self.count = client, path, function, count
        self.guard = FailureGuard()

    def run(self) -> int:
        """Runs until the sweep has nothing left, ``count`` runs, or the guard stops it; returns
        how many runs it ran."""
        import time

        agent_id = self.client.register(self.path, socket.gethostname(), os.getpid())["agent_id"]
        done = 0
        try:
            while self.count is None or done < self.count:
                commands = self.client.heartbeat(self.path, agent_id, {})["commands"]
                ending = next((c for c in commands if c["type"] == "exit"), None)
                if ending is not None:
                    print(f"trackwell agent: {ending.get('reason') or 'the sweep has no more runs'}", file=sys.stderr)
                    break
                run = next((c for c in commands if c["type"] in ("run", "resume")), None)
                if run is None:
                    time.sleep(heartbeat_interval())
                    continue
                done += 1
                reason = self.guard.record(self._run_one(agent_id, run))
                if reason is not None:
                    print(f"trackwell agent: stopping: {reason}", file=sys.stderr)
                    break
        finally:
            with contextlib.suppress(Exception):
                self.client.call("POST", f"{self.client._url(self.path)}/agents/{agent_id}/heartbeat",
                                 {"runs": {}, "done": True}, retry=False)
        return done

    def _run_one(self, agent_id: str, command: dict[str, Any]) -> bool:
        """Runs the function for one run; True if it failed."""
        import trackwell
        from trackwell.sdk import exits

        run_id = command["run_id"]
        param_path = write_param_file(files_root(), self.path.sweep_id, run_id, params_of(command))
        beat = _Beat(self.client, self.path, agent_id, run_id)
        beat.start()
        failed = False
        try:
            with _environ(run_env(self.client, self.path, run_id, param_path)):
                try:
                    self.function()
                except KeyboardInterrupt:
                    if not (exits.state.stopped or beat.stopped):
                        raise  # the user's Ctrl-C: the agent stops too
                except Exception:  # noqa: BLE001 - the run fails, the agent goes on (W&B's function agent)
                    failed = True
                    traceback.print_exc()
                finally:
                    trackwell.finish(exit_code=1 if failed else None)
        finally:
            exits.state.stopped = False
            beat.halt.set()
        return failed
