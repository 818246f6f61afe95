"""Helpers for the delivery tests: real server processes, exact comparisons of what the client
logged with what the server holds, and the retry-id trail in the server log."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fault_proxy import FaultProxy
from servers import LiveServer, free_port, http, scan_rows, start_server

from trackwell.schema import History
from trackwell.sdk.journal import JournalReader

# Short retry intervals: every backoff in these tests is tens of milliseconds, timeouts ~1 s.
FAST_RETRIES = {
    "TRACKWELL_RETRY_INITIAL_INTERVAL": "0.02",
    "TRACKWELL_RETRY_MAX_INTERVAL": "0.3",
    "TRACKWELL_HTTP_TIMEOUT": "1.0",
    # a send per 50 ms (default 1 s): fault mixes need enough requests to meet every fault kind
    "TRACKWELL_UPLOAD_INTERVAL": "0.05",
}


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.02)


def logged(journal: Path) -> list[dict[str, Any]]:
    """The history rows the client logged, as the server should return them."""
    return [{"_step": r.step, **r.data} for r in JournalReader(journal).records() if isinstance(r, History)]


def point_counts(base_url: str, path: str) -> dict[str, int]:
    """Points ingested per metric: a duplicate delivery would show here even where the history
    scan (one row per step) would hide it. Counted twice, by the per-metric summaries kept at
    ingest and by the metric store itself (the buckets' count): they must agree."""
    r = http.get(f"{base_url}/api/v1/runs/{path}/metrics", timeout=30)
    r.raise_for_status()
    counts = {k: int(v["count"]) for k, v in r.json()["metrics"].items()}
    for key, count in counts.items():
        b = http.get(f"{base_url}/api/v1/runs/{path}/history/buckets", params={"key": key, "buckets": 1}, timeout=30)
        b.raise_for_status()
        stored = int(b.json()["count"])
        assert stored == count, f"{path}: {key}: the metric store holds {stored} points, its summary counts {count}"
    return counts


def assert_exactly_once(base_url: str, journal: Path, keys: tuple[str, ...] = ("x", "i")) -> None:
    h = JournalReader(journal).header
    path = f"{h.entity}/{h.project}/{h.run_id}"
    want = logged(journal)
    assert want, "the client logged nothing"
    got = scan_rows(base_url, path)
    project = [tuple(row.get(k) for k in ("_step", *keys)) for row in want]
    assert [tuple(row.get(k) for k in ("_step", *keys)) for row in got] == project
    counts = point_counts(base_url, path)
    numeric = [key for key in keys if key in counts]  # strings are history values, not points
    assert numeric, f"none of {keys} is a numeric metric"
    for key in numeric:
        assert counts[key] == sum(1 for row in want if key in row), f"{key}: points applied more than once"


# -- chaos: a server that can be killed and restarted behind a fault proxy, and SDK subprocesses --

class ChaosServer:
    """A real `trackwell server` on a fixed port and data dir (SQLite, or PostgreSQL when ``db``
    is given) behind a FaultProxy: killed with SIGKILL and restarted in place, optionally with a
    smaller body limit (the server's 413 names it and the SDK shrinks its batches)."""

    def __init__(self, root: Path, db: str | None = None) -> None:
        self.root, self.db, self.port = root, db, free_port()
        self.server = self._start(None)
        self.proxy = FaultProxy(self.server.url, retry_after="0", stall_seconds=1.2, drop_delay=1.2)

    def _start(self, max_request_bytes: int | None) -> LiveServer:
        extra = [*(["--db", self.db] if self.db else []),
                 *(["--max-request-bytes", str(max_request_bytes)] if max_request_bytes else [])]
        return start_server(self.root, *extra, port=self.port)

    @property
    def url(self) -> str:
        return self.server.url

    def kill(self) -> None:
        self.server.process.kill()
        self.server.process.wait()

    def restart(self, max_request_bytes: int | None = None) -> None:
        if self.server.process.poll() is None:
            self.kill()
        self.server = self._start(max_request_bytes)

    def log_size(self) -> int:
        return self.server.log_path.stat().st_size

    def troubles(self, since: int) -> list[str]:
        """Server log lines after byte ``since`` that are bugs whatever the chaos: a 5xx answer,
        an ERROR (a store refusing records, a failed projection), a traceback."""
        with open(self.server.log_path, "rb") as f:
            f.seek(since)
            lines = f.read().decode(errors="replace").splitlines()
        return [line for line in lines
                if re.search(r" (GET|POST|PUT|PATCH|DELETE) \S+ 5\d\d ", line) or " ERROR " in line
                or line.startswith("Traceback")]

    def close(self) -> None:
        self.proxy.close()
        self.server.stop()


# A real SDK process driven over stdin, one JSON command per line, answering one JSON line each:
#   start:  {"step": <run.step>}  (a resumed run starts after what the server has)
#   {"op": "log", "calls": [[data, step|null, commit|null], ...]} -> {"step": <run.step>}
#   {"op": "finish"} -> {"finished": true}, then it exits
_DRIVER = r"""
import json, sys, trackwell
url, project, run_id, root, mode = sys.argv[1:6]
run = trackwell.init(project=project, id=run_id, resume="allow", dir=root, mode=mode,
                     settings={"base_url": url, "quiet": True, "console": "off", "finish_timeout": 120,
                               "flush_interval": 0.05})
print(json.dumps({"step": run.step}), flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    if cmd["op"] == "log":
        for data, step, commit in cmd["calls"]:
            run.log(data, step=step, commit=commit)
        print(json.dumps({"step": run.step}), flush=True)
    elif cmd["op"] == "finish":
        run.finish()
        print(json.dumps({"finished": True}), flush=True)
        break
"""

CHAOS_ENV = {**FAST_RETRIES, "TRACKWELL_RETRY_MAX_INTERVAL": "0.3"}


class SdkProcess:
    """One process of a run: ``trackwell.init(id=..., resume="allow")`` in ``root``, then the
    ``log`` calls it is sent; ``kill()`` is a real SIGKILL (what the writer had not journaled is
    lost, the rest stays in the journal for the next process or `trackwell sync`)."""

    def __init__(self, url: str, project: str, run_id: str, root: Path, mode: str = "online") -> None:
        self.child = subprocess.Popen([sys.executable, "-c", _DRIVER, url, project, run_id, str(root), mode],
                                      cwd=root, env={**os.environ, **CHAOS_ENV}, text=True,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.start_step = int(self._reply()["step"])

    def _reply(self, timeout: float = 120) -> dict[str, Any]:
        assert self.child.stdout is not None
        ready, _, _ = select.select([self.child.stdout], [], [], timeout)
        line = self.child.stdout.readline() if ready else ""
        if not line:
            self.child.kill()
            _, err = self.child.communicate()
            raise AssertionError(f"the SDK process gave no answer (exit {self.child.returncode}):\n{err[-3000:]}")
        return json.loads(line)  # type: ignore[no-any-return]

    def _send(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.child.stdin is not None
        self.child.stdin.write(json.dumps(command) + "\n")
        self.child.stdin.flush()
        return self._reply()

    def log(self, calls: list[tuple[dict[str, Any], int | None, bool | None]]) -> int:
        """Make the calls; returns ``run.step`` after them."""
        return int(self._send({"op": "log", "calls": calls})["step"])

    def finish(self) -> None:
        self._send({"op": "finish"})
        _, err = self.child.communicate(timeout=120)
        assert self.child.returncode == 0, err[-3000:]

    def kill(self) -> None:
        self.child.kill()
        self.child.communicate()


def sync(roots: list[Path], url: str, *extra: str) -> subprocess.Popen[str]:
    """`trackwell sync roots...` as a real process (wait for it, or kill it mid-sync)."""
    return subprocess.Popen([sys.executable, "-m", "trackwell", "sync", *map(str, roots), "--base-url", url, *extra],
                            env={**os.environ, **CHAOS_ENV}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
