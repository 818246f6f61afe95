"""Real outages: the server process stopped for 10 s and for 60 s while a subprocess logs, then
restarted on the same port and data dir; and a server killed with SIGKILL in the middle of
applying batches. The server ends up with every point exactly once, and never a partial batch.

The 10-minute outage is `python bench/bench_outage.py --outage 600` (too long for the suite).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from delivery_helpers import FAST_RETRIES, assert_exactly_once, point_counts
from servers import free_port, http, scan_rows, start_server

from trackwell.schema import Batch, History, RunStart
from trackwell.sdk.journal import read_ack, synced_path
from trackwell.transport import Client

_LOGGER = """
import os, sys, time, trackwell
run = trackwell.init(project="outage", settings={"base_url": sys.argv[1], "quiet": True, "console": "off",
                                                 "finish_timeout": 120})
print(run.journal_path(), flush=True)
i = 0
while not os.path.exists(sys.argv[2]):
    run.log({"x": i * 0.25, "i": i})
    i += 1
    if i % 10 == 0:
        time.sleep(0.01)
run.finish()
print("logged", i, flush=True)
"""


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class _LoggedRun:
    """A subprocess logging a run to its own real server, whose outages the test controls."""

    def __init__(self, root: Path) -> None:
        self.port, self.data, self.stop_file = free_port(), root / "server", root / "stop"
        self.server = start_server(self.data, port=self.port)
        env = {**os.environ, **FAST_RETRIES, "TRACKWELL_RETRY_MAX_INTERVAL": "2"}
        self.child = subprocess.Popen([sys.executable, "-c", _LOGGER, self.server.url, str(self.stop_file)],
                                      cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.child.stdout is not None
        self.journal = Path(self.child.stdout.readline().strip())
        self._acked = 0

    def server_down(self) -> float:
        _wait(lambda: read_ack(self.journal) > self._acked + 100, 30, "acknowledgements before the outage")
        self.server.stop()
        self._acked = read_ack(self.journal)
        return time.monotonic()

    def server_up(self) -> None:
        # logging went on (the process is alive), and nothing was acknowledged while down
        assert read_ack(self.journal) == self._acked and self.child.poll() is None
        size = self.journal.stat().st_size
        self.server = start_server(self.data, port=self.port)
        # delivery resumes by itself once the breaker's next probe gets through
        _wait(lambda: read_ack(self.journal) > self._acked + 1000 and self.journal.stat().st_size > size,
              30, "delivery to resume after the outage")

    def finish_and_check(self) -> None:
        self.stop_file.touch()
        _, err = self.child.communicate(timeout=120)
        assert self.child.returncode == 0, err
        assert synced_path(self.journal).exists(), err
        assert_exactly_once(self.server.url, self.journal)

    def close(self) -> None:
        if self.child.poll() is None:
            self.child.kill()
        self.server.stop()


def test_server_down_for_60_s_and_for_10_s_while_subprocesses_log(tmp_path: Path) -> None:
    """Two runs, each with its own server: one loses it for 60 s, the other for 10 s in the middle
    of that (overlapped so the suite stays short); both end with every point exactly once."""
    runs = [_LoggedRun(tmp_path / "long"), _LoggedRun(tmp_path / "short")]
    long, short = runs
    try:
        down_since = long.server_down()
        time.sleep(20)
        short.server_down()
        time.sleep(10)
        short.server_up()
        time.sleep(max(0.0, down_since + 60 - time.monotonic()))
        long.server_up()
        for run in runs:
            run.finish_and_check()
    finally:
        for run in runs:
            run.close()


def _batches(run_id: str, n: int, size: int) -> list[list[Any]]:
    start = RunStart(seq=1, ts=0.0, entity="default", project="killed", run_id=run_id)
    records: list[Any] = [start]
    for step in range(n * size):
        records.append(History(seq=step + 2, ts=0.0, step=step, runtime=0.0,
                               data={f"m{k}": step + k * 0.5 for k in range(20)}))
    return [records[:1]] + [records[1 + b * size:1 + (b + 1) * size] for b in range(n)]


def test_server_killed_mid_batch_shows_no_partial_batch(tmp_path: Path) -> None:
    port, data, run_id, size = free_port(), tmp_path / "server", "killed1", 2000
    server = start_server(data, port=port)
    writer = uuid.uuid4().hex
    batches = _batches(run_id, 20, size)
    acked: list[int] = []

    def send_all() -> None:
        with Client(server.url, max_attempts=1) as client:
            for batch in batches:
                try:
                    acked.append(client.send_batch("default", "killed", run_id,
                                                   Batch(writer=writer, records=batch)).applied_seq)
                except Exception:  # noqa: BLE001 - the server was killed: stop sending
                    return

    sender = threading.Thread(target=send_all)
    sender.start()
    _wait(lambda: len(acked) >= 3, 60, "a few batches to be applied")
    time.sleep(random.uniform(0, 0.05))  # land inside some batch's apply
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()
    sender.join(30)

    server = start_server(data, port=port)
    try:
        path = f"default/killed/{run_id}"
        rows = scan_rows(server.url, path)
        # whole batches only: the history is a prefix of the logged steps that ends on a batch edge
        assert len(rows) % size == 0 and [r["_step"] for r in rows] == list(range(len(rows)))
        assert len(rows) >= size * (len(acked) - 1)
        counts = point_counts(server.url, path)
        assert all(c <= len(rows) and c % size == 0 for c in counts.values())  # whole batches in SQL too
        # the client resends from the server's mark and everything lands exactly once
        with Client(server.url) as client:
            applied = client.send_batch("default", "killed", run_id, Batch(writer=writer, records=[])).applied_seq
            rest = [r for batch in batches for r in batch if r.seq > applied]
            for i in range(0, len(rest), size):
                client.send_batch("default", "killed", run_id, Batch(writer=writer, records=rest[i:i + size]))
        rows = scan_rows(server.url, path)
        assert [r["_step"] for r in rows] == list(range(20 * size))
        assert point_counts(server.url, path) == {f"m{k}": 20 * size for k in range(20)}
        assert http.get(f"{server.url}/api/v1/health").status_code == 200
    finally:
        server.stop()
