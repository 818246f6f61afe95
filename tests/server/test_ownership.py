"""The server owns delivery: accepted batches reach the stores without their client; one live
writer per run (409 naming it) unless they share; shared writers' histories never mix; a store's
refusal is quarantined instead of stalling the run. Real server processes, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers import LiveServer, get_run, http, scan_rows, start_server

from trackwell.schema import Batch, Exit, History, RunStart, encode

MSGPACK = {"Content-Type": "application/msgpack"}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_args(request: pytest.FixtureRequest) -> list[str]:
    if request.param == "sqlite":
        return []
    return ["--db", str(request.getfixturevalue("postgres_url"))]


@pytest.fixture
def server(tmp_path: Path, db_args: list[str]) -> Iterator[LiveServer]:
    live = start_server(tmp_path / "server", *db_args, "--writer-lease", "3")
    yield live
    live.stop()


class Writer:
    """A journal writer speaking the batch protocol directly."""

    def __init__(self, url: str, path: str, **start: Any) -> None:
        self.url, self.path = url, path
        self.entity, self.project, self.run_id = path.split("/")
        self.id = uuid.uuid4().hex
        self.seq = 0
        self.step = 0
        self.start_fields = start

    def _next(self) -> dict[str, Any]:
        self.seq += 1
        return {"seq": self.seq, "ts": time.time()}

    def start(self) -> RunStart:
        return RunStart(**self._next(), entity=self.entity, project=self.project, run_id=self.run_id,
                        **self.start_fields)

    def rows(self, n: int, **values: float) -> list[History]:
        out = []
        for _ in range(n):
            out.append(History(**self._next(), step=self.step, runtime=float(self.step),
                               data={k: v + self.step for k, v in values.items()}))
            self.step += 1
        return out

    def exit(self, code: int = 0) -> Exit:
        return Exit(**self._next(), exit_code=code, runtime=float(self.step))

    def post(self, records: list[Any]) -> httpx.Response:
        return http.post(f"{self.url}/api/v1/runs/{self.path}/records",
                          content=encode(Batch(writer=self.id, records=records)), headers=MSGPACK, timeout=30)


def _path() -> str:
    return f"team/own-{uuid.uuid4().hex[:8]}/r1"


def test_second_live_writer_is_refused_naming_the_first(server: LiveServer) -> None:
    path = _path()
    first = Writer(server.url, path, host="node-a", pid=101)
    assert first.post([first.start(), *first.rows(10, x=0.0)]).status_code == 200
    for rank in range(3):  # the DDP mistake: every rank calls init(id=...)
        other = Writer(server.url, path, host="node-a", pid=200 + rank)
        r = other.post([other.start(), *other.rows(10, x=100.0)])
        assert r.status_code == 409, r.text
        body = r.json()
        assert body["error"] == "writer_conflict" and body["holder"]["pid"] == 101
        assert "node-a pid 101" in body["detail"] and "mode': 'shared'" in body["detail"]
    rows = scan_rows(server.url, path)
    assert [r["x"] for r in rows] == [float(i) for i in range(10)]  # only the first writer's history
    # Its Exit releases the run: a later process may continue it.
    assert first.post([first.exit()]).status_code == 200
    later = Writer(server.url, path, resume="allow", host="node-b", pid=7)
    assert later.post([later.start(), *later.rows(5, x=0.0)]).status_code == 200
    assert [r["_step"] for r in scan_rows(server.url, path)] == list(range(15))


def test_lease_expires_and_the_silent_writer_is_fenced(server: LiveServer) -> None:
    path = _path()
    old = Writer(server.url, path, host="node-a", pid=1)
    assert old.post([old.start(), *old.rows(5, x=0.0)]).status_code == 200
    new = Writer(server.url, path, resume="allow", host="node-b", pid=2)
    start = new.start()
    assert new.post([start]).status_code == 409  # the old one is live
    deadline = time.monotonic() + 30
    while (r := new.post([start])).status_code == 409 and time.monotonic() < deadline:
        time.sleep(0.2)  # the server's --writer-lease is 3 s
    assert r.status_code == 200, r.text
    assert new.post(new.rows(3, x=50.0)).status_code == 200
    late = old.post(old.rows(3, x=0.0))  # the old process comes back: its steps would collide
    assert late.status_code == 409 and late.json()["error"] == "writer_conflict"
    assert "taken over" in late.json()["detail"]
    rows = scan_rows(server.url, path)
    assert [r["_step"] for r in rows] == list(range(8)) and [r["x"] for r in rows][5:] == [50.0, 51.0, 52.0]  # offset after the run


def test_shared_writers_keep_their_histories_apart(server: LiveServer) -> None:
    path = _path()
    primary = Writer(server.url, path, shared=True, label="rank-0", host="n", pid=1)
    secondary = Writer(server.url, path, shared=True, label="rank-1", host="n", pid=2)
    assert primary.post([primary.start(), *primary.rows(4, loss=0.0)]).status_code == 200
    assert secondary.post([secondary.start(), *secondary.rows(4, loss=10.0)]).status_code == 200
    exclusive = Writer(server.url, path, host="n", pid=3)
    assert exclusive.post([exclusive.start()]).status_code == 409  # sharing is asked for, not assumed
    assert secondary.post([secondary.exit()]).status_code == 200
    assert get_run(server.url, path)["state"] == "running"  # a secondary's exit is not the run's
    rows = scan_rows(server.url, path)
    assert [r["loss"] for r in rows] == [0.0, 1.0, 2.0, 3.0]
    assert [r["rank-1/loss"] for r in rows] == [10.0, 11.0, 12.0, 13.0]
    assert primary.post([primary.exit()]).status_code == 200
    assert get_run(server.url, path)["state"] == "finished"


def test_claim_at_init_names_the_holder(server: LiveServer) -> None:
    path = _path()
    url = f"{server.url}/api/v1/runs/{path}/writers"
    a = http.post(url, json={"writer": "a" * 32, "host": "box", "pid": 11})
    assert a.status_code == 200 and a.json()["primary"] is True
    assert http.post(url, json={"writer": "a" * 32, "host": "box", "pid": 11}).status_code == 200  # idempotent
    b = http.post(url, json={"writer": "b" * 32, "host": "box", "pid": 12})
    assert b.status_code == 409 and b.json()["holder"]["pid"] == 11
    # A process that found the holder's journal dead on its disk may take over at once.
    c = http.post(url, json={"writer": "c" * 32, "host": "box", "pid": 13, "after": {"a" * 32: 0}})
    assert c.status_code == 200, c.text
    assert http.post(url, json={"writer": "b" * 32}).status_code == 409  # now c holds it
    bad = http.post(url, json={"writer": "", "pid": "x"})
    assert bad.status_code == 422


def test_accepted_batches_reach_the_stores_without_the_client(tmp_path: Path, db_args: list[str]) -> None:
    """The ack means the server has the records: a server killed right after acknowledging
    (before projecting) projects them after its restart, with no client around."""
    data = tmp_path / "server"
    env_before = os.environ.get("TRACKWELL_DEFER_PROJECTION")
    os.environ["TRACKWELL_DEFER_PROJECTION"] = "1"
    try:
        live = start_server(data, *db_args)
    finally:
        if env_before is None:
            del os.environ["TRACKWELL_DEFER_PROJECTION"]
        else:
            os.environ["TRACKWELL_DEFER_PROJECTION"] = env_before
    path = _path()
    w = Writer(live.url, path)
    acks = [w.post([w.start(), *w.rows(100, x=0.0)]), w.post([*w.rows(100, x=0.0), w.exit()])]
    assert [a.json()["applied_seq"] for a in acks] == [101, 202]
    live.process.send_signal(signal.SIGKILL)  # no graceful anything
    live.process.wait()
    restarted = start_server(data, *db_args, port=int(live.url.rsplit(":", 1)[1]))
    try:
        deadline = time.monotonic() + 30
        while len(rows := scan_rows(restarted.url, path)) < 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [r["x"] for r in rows] == [float(i) for i in range(200)]
        assert get_run(restarted.url, path)["state"] == "finished"
        counts = http.get(f"{restarted.url}/api/v1/runs/{path}/metrics").json()["metrics"]
        assert counts["x"]["count"] == 200
        assert w.post([w.exit()]).status_code in (200, 409)  # a late retry is not applied twice
        assert http.get(f"{restarted.url}/api/v1/runs/{path}/metrics").json()["metrics"]["x"]["count"] == 200
    finally:
        restarted.stop()


def test_steps_only_go_up_within_a_writer(server: LiveServer) -> None:
    path = _path()
    w = Writer(server.url, path)
    assert w.post([w.start(), *w.rows(5, x=0.0)]).status_code == 200
    w.step = 2  # a client that reuses steps would write (run, key, step) twice
    r = w.post(w.rows(1, x=0.0))
    assert r.status_code == 422 and "steps must increase" in r.json()["detail"]
    assert [row["_step"] for row in scan_rows(server.url, path)] == list(range(5))
