"""Real agent processes for the sweep tests: `trackwell agent` and scripts calling trackwell.agent."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

FUNCTION_AGENT = textwrap.dedent("""
    import sys, time, trackwell

    def train():
        run = trackwell.init(config={"a": -1, "kept": "yes"})
        for i in range(int(sys.argv[2])):
            run.log({"loss": float(run.config["a"]) + i * 0.0})
            time.sleep(float(sys.argv[3]))

    trackwell.agent(sys.argv[1], function=train)
""")


def agent_env(url: str, workdir: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "TRACKWELL_BASE_URL": url, "TRACKWELL_AGENT_HEARTBEAT": "0.2", "TRACKWELL_DIR": str(workdir),
           "PYTHONPATH": os.pathsep.join(sys.path), **extra}
    env.pop("TRACKWELL_PROJECT", None)
    return env


def function_agent(url: str, sweep: str, workdir: Path, logs: int = 1, sleep: float = 0.0) -> subprocess.Popen[str]:
    workdir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, "-c", FUNCTION_AGENT, sweep, str(logs), str(sleep)], cwd=workdir,
                            env=agent_env(url, workdir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def cli_agent(url: str, sweep: str, workdir: Path, *args: str, **popen: object) -> subprocess.Popen[str]:
    workdir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "trackwell", "agent", sweep, *args], cwd=workdir,
                            env=agent_env(url, workdir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            **popen)  # type: ignore[call-overload]
