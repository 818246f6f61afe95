"""Sweep dispatch figures against a real `trackwell server` subprocess (SQLite).

1. Dispatch latency: one agent alone asks for runs over HTTP (request -> run command), p50/p99.
2. Dispatch throughput: 20 agents (threads speaking the agent protocol; each run "ends" at once)
   drain a grid of ``--grid`` combinations: runs handed out per second, and that every
   combination went out exactly once.
3. End to end: 20 real `trackwell.agent(function=...)` processes run ``--runs`` trivial runs
   (init, one log, finish) of a random sweep capped at that count: runs per second, wall time.

    python bench/bench_sweeps.py [--grid 600] [--runs 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from _server import auth_headers, login_entity, start_server, stop_server

AGENT = """
import sys, trackwell
def train():
    run = trackwell.init()
    run.log({"loss": run.config["x"]})
    run.finish()
trackwell.agent(sys.argv[1], function=train)
"""


class Sweeps:
    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url + "/api/v1", headers=auth_headers(url), timeout=120)
        self.entity = login_entity(url)

    def create(self, project: str, config: dict) -> str:
        r = self.http.post(f"/sweeps/{self.entity}/{project}", json={"config": config})
        r.raise_for_status()
        return f"{self.entity}/{project}/{r.json()['id']}"

    def register(self, path: str) -> str:
        r = self.http.post(f"/sweeps/{path}/agents", json={"host": "bench"})
        r.raise_for_status()
        return str(r.json()["agent_id"])

    def beat(self, path: str, agent: str) -> list[dict]:
        r = self.http.post(f"/sweeps/{path}/agents/{agent}/heartbeat", json={"runs": {}})
        r.raise_for_status()
        return list(r.json()["commands"])


def latency(api: Sweeps, n: int) -> None:
    path = api.create("latency", {"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    agent = api.register(path)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        commands = api.beat(path, agent)
        times.append((time.perf_counter() - t0) * 1000)
        assert commands and commands[0]["type"] == "run"
    times.sort()
    print(f"dispatch latency, 1 agent, random sweep ({n} runs): p50 {statistics.median(times):.1f} ms, "
          f"p99 {times[int(0.99 * (n - 1))]:.1f} ms")


def throughput(url: str, grid: int, agents: int) -> None:
    side = int(round(grid ** 0.5))
    config = {"method": "grid", "parameters": {"a": {"min": 1, "max": side}, "b": {"min": 1, "max": grid // side}}}
    path = Sweeps(url).create("throughput", config)
    handed: list[tuple[int, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(agents + 1)

    def agent() -> None:
        api = Sweeps(url)
        me = api.register(path)
        start.wait()
        while True:
            commands = api.beat(path, me)
            if any(c["type"] == "exit" for c in commands):
                return
            with lock:
                handed.extend((c["args"]["a"]["value"], c["args"]["b"]["value"]) for c in commands
                              if c["type"] == "run")

    threads = [threading.Thread(target=agent) for _ in range(agents)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    size = side * (grid // side)
    exact = len(handed) == size == len(set(handed))
    print(f"dispatch throughput, {agents} agents, {size}-point grid: {len(handed) / elapsed:.0f} runs/s "
          f"({elapsed:.1f} s; every combination exactly once: {exact})")


def end_to_end(url: str, runs: int, agents: int, workdir: Path) -> None:
    path = Sweeps(url).create("e2e", {"method": "random", "run_cap": runs,
                                      "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    env = {**os.environ, "TRACKWELL_BASE_URL": url, "TRACKWELL_AGENT_HEARTBEAT": "0.2",
           "TRACKWELL_CONSOLE": "off", "TRACKWELL_QUIET": "1", "TRACKWELL_DIR": str(workdir)}
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", AGENT, path], env=env, cwd=workdir,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(agents)]
    for p in procs:
        p.wait()
    elapsed = time.perf_counter() - t0
    listed = Sweeps(url).http.get(f"/sweeps/{path}/runs").json()["runs"]
    finished = sum(r["state"] == "finished" for r in listed)
    print(f"end to end, {agents} agent processes, {runs} trivial runs: {runs / elapsed:.1f} runs/s "
          f"({elapsed:.1f} s wall incl. process start; {finished}/{len(listed)} runs finished)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", type=int, default=600)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--agents", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp) / "server")
        try:
            latency(Sweeps(url), 200)
            throughput(url, args.grid, args.agents)
            end_to_end(url, args.runs, args.agents, Path(tmp))
        finally:
            stop_server(proc)


if __name__ == "__main__":
    main()
