"""Deleting a run while its process keeps sending: every answer is a 200 or a 410 (never a 5xx),
the run never comes back, and no point of it is left in the metric store (checked in the files
after the server stopped); a neighbour run logging at the same time loses nothing."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from pathlib import Path

import duckdb
import httpx
from servers import start_server

from trackwell.schema import Batch, History, RunStart, encode

MSGPACK = {"Content-Type": "application/msgpack"}


class Sender(threading.Thread):
    """One writer of one run sending batches of 50 rows back to back until told to stop, or
    until five answers after its first 410."""

    def __init__(self, url: str, headers: dict[str, str], entity: str, run_id: str) -> None:
        super().__init__(daemon=True)
        self.base = f"{url}/api/v1/runs/{entity}/race/{run_id}/records"
        self.headers = {**headers, **MSGPACK}
        self.entity, self.run_id = entity, run_id
        self.writer = uuid.uuid4().hex
        self.statuses: list[int] = []
        self.rows = 0
        self.stop = threading.Event()

    def run(self) -> None:
        seq, step = 1, 0
        records: list = [RunStart(seq=1, ts=0.0, entity=self.entity, project="race", run_id=self.run_id)]
        with httpx.Client(timeout=30) as client:
            while not self.stop.is_set() and self.statuses.count(410) < 5:
                for _ in range(50):
                    seq += 1
                    records.append(History(seq=seq, ts=0.0, step=step, runtime=step / 10, data={"x": float(step)}))
                    step += 1
                r = client.post(self.base, content=encode(Batch(writer=self.writer, records=records)),
                                headers=self.headers)
                self.statuses.append(r.status_code)
                if r.status_code == 200:
                    self.rows += len([x for x in records if type(x) is History])
                    records = []
                else:
                    assert r.status_code == 410 and r.json()["error"] == "run_deleted", r.text


def test_delete_during_ingest(tmp_path: Path) -> None:
    server = start_server(tmp_path / "server")
    try:
        entity = server.entity
        doomed, neighbour = Sender(server.url, server.headers, entity, "doomed"), \
            Sender(server.url, server.headers, entity, "neighbour")
        doomed.start()
        neighbour.start()
        deadline = time.monotonic() + 30
        while doomed.rows < 2000 and time.monotonic() < deadline:
            time.sleep(0.05)
        r = httpx.delete(f"{server.url}/api/v1/runs/{entity}/race/doomed", headers=server.headers, timeout=30)
        assert r.status_code == 200 and r.json()["deleted"] is True, r.text
        doomed.join(30)
        neighbour.stop.set()
        neighbour.join(30)
        assert not doomed.is_alive() and not neighbour.is_alive()
        assert set(doomed.statuses) == {200, 410} and doomed.statuses[-5:] == [410] * 5, doomed.statuses
        assert set(neighbour.statuses) == {200}, neighbour.statuses
        run = httpx.get(f"{server.url}/api/v1/runs/{entity}/race/doomed", headers=server.headers, timeout=10)
        assert run.status_code == 404
        scan = httpx.get(f"{server.url}/api/v1/runs/{entity}/race/neighbour/history/scan",
                         params={"page_size": 100_000}, headers=server.headers, timeout=30).json()
        assert len(scan["rows"]) == neighbour.rows
    finally:
        server.stop()
    assert " 500 " not in server.log() and "Traceback" not in server.log()

    with sqlite3.connect(tmp_path / "server" / "trackwell.db") as db:
        (pk,) = db.execute("SELECT pk FROM deleted_runs WHERE run_id = 'doomed'").fetchone()
        assert db.execute("SELECT count(*) FROM runs WHERE run_id = 'doomed'").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM run_summary WHERE run_pk = ?", (pk,)).fetchone() == (0,)
        (neighbour_pk,) = db.execute("SELECT pk FROM runs WHERE run_id = 'neighbour'").fetchone()
    metrics = duckdb.connect(str(tmp_path / "server" / "metrics.duckdb"), read_only=True)
    try:
        left = metrics.execute("SELECT (SELECT count(*) FROM points_all WHERE run_pk = $pk) + "
                               "(SELECT count(*) FROM writer_marks WHERE run_pk = $pk)", {"pk": pk}).fetchone()
        assert left == (0,)
        kept = metrics.execute("SELECT count(*) FROM points_all WHERE run_pk = ?", [neighbour_pk]).fetchone()
        assert kept is not None and kept[0] >= neighbour.rows  # x, plus the derived _runtime etc.
    finally:
        metrics.close()
