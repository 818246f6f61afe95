"""Ingest admission on a real server with a tiny limit (one batch at a time, no queue): a batch
arriving while the slot is taken is answered 429 with Retry-After, naming why, and nothing of it
is applied; reads are not queued behind uploads; SDK runs that meet 429s back off without calling
it an outage and still deliver every point exactly once. SQLite and PostgreSQL.

The slot is held deterministically by a batch whose body arrives slowly: admission happens
when a request's head arrives, so that batch holds the slot until its last byte is sent."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from servers import LiveServer, http, start_server

from trackwell.schema import Batch, History, RunStart, encode
from trackwell.server._admission import IngestAdmission

MSGPACK = {"Content-Type": "application/msgpack", "Accept": "application/json"}


@pytest.fixture(scope="module")
def tight_server(tmp_path_factory: pytest.TempPathFactory, backend_args: list[str]) -> Iterator[LiveServer]:
    with pytest.MonkeyPatch.context() as env:  # the child reads its limits from its environment
        env.setenv("TRACKWELL_INGEST_CONCURRENCY", "1")
        env.setenv("TRACKWELL_INGEST_QUEUE", "0")
        live = start_server(tmp_path_factory.mktemp("server"), *backend_args)
    yield live
    live.stop()


def _records(server: LiveServer, project: str, run_id: str) -> str:
    return f"{server.url}/api/v1/runs/{server.entity}/{project}/{run_id}/records"


def _batch(server: LiveServer, project: str, run_id: str, writer: str, rows: int) -> bytes:
    return encode(Batch(writer=writer, records=[
        RunStart(seq=1, ts=time.time(), entity=server.entity, project=project, run_id=run_id),
        *(History(seq=2 + i, ts=time.time(), step=i, runtime=0.0, data={"x": float(i)}) for i in range(rows))]))


class HeldSlot:
    """Takes the server's only ingest slot with a batch whose body stops halfway until released."""

    def __init__(self, server: LiveServer, project: str) -> None:
        self.server, self.project = server, project
        self.release = threading.Event()
        self.sending = threading.Event()  # the request's head is out
        self.answer: httpx.Response | BaseException | None = None
        run_id = f"holder{uuid.uuid4().hex[:6]}"
        body = _batch(server, project, run_id, uuid.uuid4().hex, 10)
        self._halves = body[:len(body) // 2], body[len(body) // 2:]
        self._thread = threading.Thread(target=self._post, args=(_records(server, project, run_id),))

    def _body(self) -> Iterator[bytes]:
        self.sending.set()
        yield self._halves[0]
        self.release.wait(20)  # under the server's 30 s body timeout
        yield self._halves[1]

    def _post(self, url: str) -> None:
        try:
            self.answer = http.post(url, content=self._body(), headers=MSGPACK, timeout=60)
        except BaseException as exc:  # noqa: BLE001 - reported by __exit__
            self.answer = exc

    def __enter__(self) -> HeldSlot:
        self._thread.start()
        # Probes start once the slow batch surely has the slot: a probe in flight when it arrives
        # would get it turned away (no queue), and its drained body would hang until release.
        assert self.sending.wait(20), "the slow batch was never sent"
        time.sleep(1.0)
        probe = _records(self.server, self.project, "probe")  # an empty batch: nothing to apply
        deadline = time.monotonic() + 20
        while http.post(probe, content=encode(Batch(writer="probe", records=[])), headers=MSGPACK,
                        timeout=30).status_code != 429:
            assert time.monotonic() < deadline, "the slow batch never took the ingest slot"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._thread.join(60)
        assert isinstance(self.answer, httpx.Response) and self.answer.status_code == 200, self.answer


def _counts(server: LiveServer, project: str, run_id: str) -> tuple[int, int]:
    """Points of ``x``: as the per-metric summary counts them, and as the metric store holds them."""
    base = f"{server.url}/api/v1/runs/{server.entity}/{project}/{run_id}"
    summary = http.get(f"{base}/metrics", timeout=30).json()["metrics"].get("x", {}).get("count", 0)
    chart = http.get(f"{base}/history/buckets", params={"key": "x", "buckets": 1}, timeout=30)
    return int(summary), int(chart.json()["count"]) if chart.status_code == 200 else 0  # 404: none yet


def _settled_counts(server: LiveServer, project: str, run_id: str, want: int) -> tuple[int, int]:
    """``_counts`` once they reach ``want`` or 10 s passed: a batch acknowledged while others
    queued is projected right after its ack (the catch-up task), not before it."""
    deadline = time.monotonic() + 10
    while (got := _counts(server, project, run_id)) != (want, want) and time.monotonic() < deadline:
        time.sleep(0.1)
    return got


def test_a_saturated_server_answers_429_with_retry_after_and_applies_nothing(tight_server: LiveServer) -> None:
    project = f"tight{uuid.uuid4().hex[:6]}"
    url, body = _records(tight_server, project, "refused"), _batch(tight_server, project, "refused", "w1", 5)
    with HeldSlot(tight_server, project):
        refused = http.post(url, content=body, headers=MSGPACK, timeout=30)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        answer: dict[str, Any] = refused.json()
        assert answer["error"] == "too_many_requests" and answer["retry_after"] == int(refused.headers["retry-after"])
        assert "TRACKWELL_INGEST_QUEUE=0" in answer["detail"] and "retry after" in answer["detail"]
        # reads do not wait behind uploads
        listed = http.get(f"{tight_server.url}/api/v1/runs/{tight_server.entity}/{project}", timeout=30)
        assert listed.status_code == 200 and "refused" not in [r["id"] for r in listed.json()["runs"]]
    for _ in range(2):  # the same batch again, then once more: applied exactly once
        again = http.post(url, content=body, headers=MSGPACK, timeout=30)
        assert again.status_code == 200 and again.json()["applied_seq"] == 6
    assert _settled_counts(tight_server, project, "refused", 5) == (5, 5)


_LOGGER = """
import sys, time, trackwell
run = trackwell.init(project=sys.argv[2], id=sys.argv[3],
                     settings={"base_url": sys.argv[1], "quiet": True, "console": "off", "finish_timeout": 120})
for i in range(300):
    run.log({"x": i * 0.5})
    if i % 30 == 0:
        time.sleep(0.05)
run.finish()
print("finished", flush=True)
"""


def test_sdk_runs_back_off_on_429_and_deliver_exactly_once(tight_server: LiveServer, tmp_path: Path) -> None:
    project = f"backoff{uuid.uuid4().hex[:6]}"
    run_ids = [f"run{i}{uuid.uuid4().hex[:6]}" for i in range(2)]
    env = {**os.environ, "TRACKWELL_UPLOAD_INTERVAL": "0.2", "TRACKWELL_RETRY_INITIAL_INTERVAL": "0.1",
           "TRACKWELL_RETRY_MAX_INTERVAL": "2"}
    with HeldSlot(tight_server, project):
        children = [subprocess.Popen([sys.executable, "-c", _LOGGER, tight_server.url, project, run_id], cwd=tmp_path,
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    for run_id in run_ids]
        deadline = time.monotonic() + 15
        while not all(f"/{project}/{r}/records 429" in tight_server.log() for r in run_ids):
            assert time.monotonic() < deadline, "the runs' uploads were never refused"
            assert all(c.poll() is None for c in children), "a run ended while the server refused its uploads"
            time.sleep(0.1)
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0 and "finished" in out, err
        assert "cannot upload" not in err, f"a 429 was reported as an outage: {err}"
    for run_id in run_ids:
        assert _settled_counts(tight_server, project, run_id, 300) == (300, 300)


def test_while_saturated_each_active_run_gets_its_share_of_the_measured_rate() -> None:
    async def scenario() -> None:
        adm = IngestAdmission(concurrency=1, queue=10)
        for i in range(8):
            adm.saw(f"/run{i}")
        adm.admitted("/run0", time.monotonic())
        assert adm.cadence() is None and adm.too_soon("/run0") == 0  # no rate measured yet: no shares
        adm.rate = 10.0  # batches/s, as measured while saturated
        assert adm.cadence() == pytest.approx(1.0)  # 8 runs over 80 % of 10 batches/s
        assert adm.too_soon("/run0") == 0, "not saturated now: any run may send"
        await adm.limiter.acquire_on_behalf_of(object())  # the only slot is taken
        assert 0 < adm.too_soon("/run0") <= 0.9 and adm.too_soon("/run1") == 0  # a tenth is forgiven
        assert 1 <= adm.retry_after(adm.too_soon("/run0")) <= 2
        assert adm.flush_interval() is None, "a one-second cadence is the clients' own pace"
        for i in range(8, 40):
            adm.saw(f"/run{i}")
        assert adm.flush_interval() == 5.0  # 40 runs: each one batch per 5 s

    anyio.run(scenario)
